/* Workflow spec parsing and validation (every reason, exact messages),
 * parameter resolution and $(params.X) substitution. */
#include "check.h"
#include "wf/wf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* JSON with ' for " so the tables stay readable. */
static struct json_object *J(const char *s)
{
    char *buf = strdup(s);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct json_object *o = json_tokener_parse(buf);
    if (!o)
        fprintf(stderr, "bad test json: %s\n", s);
    free(buf);
    return o;
}

static struct json_object *fixture(void)
{
    char *text = check_read_data("wf/build.json", NULL);
    struct json_object *o = json_tokener_parse(text);
    free(text);
    return o;
}

static void test_parse_fixture(void)
{
    struct json_object *spec = fixture();
    struct wf_spec *s = NULL;
    struct wf_error err;
    CHECK_INT(wf_spec_parse(spec, &s, &err), 0);
    json_object_put(spec); /* the wf_spec holds its own reference */
    if (!s)
        return;
    CHECK_INT(s->n_steps, 6);
    CHECK_INT(s->n_main, 4);
    CHECK_INT(s->n_params, 2);
    CHECK_STR(s->params[0].def, "https://example.com/app.git");
    CHECK(s->params[1].def == NULL);
    CHECK_INT(s->grace_seconds, 45);
    CHECK_INT(s->active_deadline_seconds, 3600);
    CHECK_INT(s->failure_policy, WF_FAIL_FAST);
    CHECK_INT(s->concurrency, WF_ALLOW);
    CHECK_INT(s->successful_history, -1);
    const char *want[] = {"checkout", "build", "test", "lint", "notify", "cleanup"};
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(s->steps[s->order[i]].name, want[i]);
    int b = wf_step_index(s, "build");
    CHECK_INT(b, 1);
    CHECK_INT(s->steps[b].retries, 2);
    CHECK_INT(s->steps[b].timeout_seconds, 600);
    CHECK_STR(s->steps[b].working_dir, "/work/src");
    CHECK(s->steps[wf_step_index(s, "cleanup")].is_finally);
    CHECK_INT(wf_step_index(s, "nope"), -1);
    wf_spec_free(s);
}

static void test_defaults(void)
{
    struct json_object *spec = J("{'steps':[{'name':'a','image':'x'}]}");
    struct wf_spec *s = NULL;
    CHECK_INT(wf_spec_parse(spec, &s, NULL), 0);
    CHECK_INT(s->grace_seconds, 30);
    CHECK_INT(s->failure_policy, WF_FAIL_FAST);
    CHECK_INT(s->concurrency, WF_ALLOW);
    CHECK_INT(s->ttl_seconds, -1);
    CHECK_INT(s->active_deadline_seconds, 0);
    CHECK_INT(s->steps[0].retries, 0);
    CHECK_INT(s->steps[0].timeout_seconds, 0);
    CHECK_INT(s->n_params, 0);
    wf_spec_free(s);
    json_object_put(spec);
}

struct bad {
    const char *spec;
    const char *reason;
    const char *message;
};

static const struct bad bad_specs[] = {
    {"[]", "InvalidSpec", "spec must be an object"},
    {"{}", "InvalidSpec", "spec.steps must list at least one step"},
    {"{'steps':{}}", "InvalidSpec", "spec.steps must be a list"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':3}", "InvalidSpec",
     "spec.finally must be a list"},
    {"{'steps':[3]}", "InvalidSpec", "spec.steps[0] must be an object"},
    {"{'steps':[{'image':'x'}]}", "InvalidSpec", "spec.steps[0].name is required"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'image':'x'}]}", "InvalidSpec",
     "spec.finally[0].name is required"},
    {"{'steps':[{'name':'Build','image':'x'}]}", "InvalidSpec",
     "step name \"Build\" is not a valid DNS label (lowercase letters, digits and '-', starting "
     "and ending with a letter or digit)"},
    {"{'steps':[{'name':'a-','image':'x'}]}", "InvalidSpec",
     "step name \"a-\" is not a valid DNS label (lowercase letters, digits and '-', starting and "
     "ending with a letter or digit)"},
    {"{'steps':[{'name':'s.x','image':'x'}]}", "InvalidSpec",
     "step name \"s.x\" is not a valid DNS label (lowercase letters, digits and '-', starting "
     "and ending with a letter or digit)"},
    {"{'steps':[{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','image':'x'}]}",
     "InvalidSpec",
     "step name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is longer than 50 "
     "characters"},
    {"{'steps':[{'name':'a'}]}", "InvalidSpec", "step \"a\": image is required"},
    {"{'steps':[{'name':'a','image':''}]}", "InvalidSpec", "step \"a\": image is required"},
    {"{'params':[{'name':'v'}],'steps':[{'name':'a','image':'x:$(params.v)'}]}", "InvalidSpec",
     "step \"a\": image cannot use $(params...) or other references; they are substituted in "
     "command, args and env only"},
    {"{'steps':[{'name':'a','image':'x:$(steps.b.results.r)'}]}", "InvalidSpec",
     "step \"a\": image cannot use $(params...) or other references; they are substituted in "
     "command, args and env only"},
    {"{'steps':[{'name':'a','image':'x','command':'ls'}]}", "InvalidSpec",
     "step \"a\": command must be a list of strings"},
    {"{'steps':[{'name':'a','image':'x','args':[1]}]}", "InvalidSpec",
     "step \"a\": args must be a list of strings"},
    {"{'steps':[{'name':'a','image':'x','env':[{'value':'v'}]}]}", "InvalidSpec",
     "step \"a\": env[0] needs a name"},
    {"{'steps':[{'name':'a','image':'x','env':[{'name':'A','value':1}]}]}", "InvalidSpec",
     "step \"a\": env[0].value must be a string"},
    {"{'steps':[{'name':'a','image':'x','workingDir':1}]}", "InvalidSpec",
     "step \"a\": workingDir must be a string"},
    {"{'steps':[{'name':'a','image':'x','resources':[]}]}", "InvalidSpec",
     "step \"a\": resources must be an object"},
    {"{'steps':[{'name':'a','image':'x','volumeMounts':{}}]}", "InvalidSpec",
     "step \"a\": volumeMounts must be a list"},
    {"{'steps':[{'name':'a','image':'x','volumeMounts':[{'name':'v','mountPath':'rel'}]}]}",
     "InvalidSpec", "step \"a\": volumeMounts[0] needs a name and an absolute mountPath"},
    {"{'steps':[{'name':'a','image':'x','volumeMounts':[7]}]}", "InvalidSpec",
     "step \"a\": volumeMounts[0] needs a name and an absolute mountPath"},
    {"{'steps':[{'name':'a','image':'x','retries':-1}]}", "InvalidSpec",
     "step \"a\": retries must be an integer >= 0"},
    {"{'steps':[{'name':'a','image':'x','retries':'3'}]}", "InvalidSpec",
     "step \"a\": retries must be an integer >= 0"},
    {"{'steps':[{'name':'a','image':'x','timeoutSeconds':0}]}", "InvalidSpec",
     "step \"a\": timeoutSeconds must be an integer > 0"},
    {"{'steps':[{'name':'a','image':'x','dependsOn':'b'}]}", "InvalidSpec",
     "step \"a\": dependsOn must be a list of step names"},
    {"{'steps':[{'name':'a','image':'x','podTemplate':{'spec':{'containers':[]}}}]}", "InvalidSpec",
     "step \"a\": podTemplate.spec.containers is set by the controller and must not be given"},
    {"{'steps':[{'name':'a','image':'x','podTemplate':{'spec':{'restartPolicy':'Always'}}}]}",
     "InvalidSpec",
     "step \"a\": podTemplate.spec.restartPolicy is set by the controller and must not be given"},
    {"{'steps':[{'name':'a','image':'x','podTemplate':{'metadata':{'labels':{'a':1}}}}]}",
     "InvalidSpec", "step \"a\": podTemplate labels and annotations must map strings to strings"},
    {"{'failurePolicy':'Sometimes','steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.failurePolicy must be FailFast or Continue, not \"Sometimes\""},
    {"{'concurrencyPolicy':'Queue','steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.concurrencyPolicy must be Allow, Forbid or Replace, not \"Queue\""},
    {"{'activeDeadlineSeconds':0,'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.activeDeadlineSeconds must be an integer > 0"},
    {"{'terminationGracePeriodSeconds':-1,'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.terminationGracePeriodSeconds must be an integer >= 0"},
    {"{'failedRunsHistoryLimit':-2,'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.failedRunsHistoryLimit must be an integer >= 0"},
    {"{'ttlSecondsAfterFinished':1.5,'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.ttlSecondsAfterFinished must be an integer >= 0"},
    {"{'params':{},'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.params must be a list"},
    {"{'params':[{'default':'x'}],'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "spec.params[0] must be an object with a name"},
    {"{'params':[{'name':'a b'}],'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "parameter name \"a b\" is not valid (a letter or '_', then letters, digits, '_' or '-'; "
     "at most 63)"},
    {"{'params':[{'name':'1st'}],'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "parameter name \"1st\" is not valid (a letter or '_', then letters, digits, '_' or '-'; "
     "at most 63)"},
    {"{'params':[{'name':'t'},{'name':'t'}],'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "duplicate parameter name \"t\""},
    {"{'params':[{'name':'t','default':1}],'steps':[{'name':'a','image':'x'}]}", "InvalidSpec",
     "parameter \"t\": default must be a string"},
/* when: its shape, and params only (results and phases are not live yet) */
#define WHEN(x) "{'params':[{'name':'env'}],'steps':[{'name':'a','image':'x','when':" x "}]}"
    {WHEN("{}"), "InvalidSpec", "step \"a\": when must be a list of at most 10 expressions"},
    {WHEN("[{'operator':'in','values':['x']}]"), "InvalidSpec",
     "step \"a\": when[0].input must be a string"},
    {WHEN("[{'input':'x','operator':'IN','values':['x']}]"), "InvalidSpec",
     "step \"a\": when[0].operator must be in or notin"},
    {WHEN("[{'input':'x','operator':'in','values':[]}]"), "InvalidSpec",
     "step \"a\": when[0].values must be a list of 1 to 50 strings"},
    {WHEN("[{'input':'x','operator':'in','values':[1]}]"), "InvalidSpec",
     "step \"a\": when[0].values must be a list of 1 to 50 strings"},
    {WHEN("[{'input':'$(params.nope)','operator':'in','values':['x']}]"), "UnknownParameter",
     "step \"a\" references unknown parameter \"nope\" in when[0].input"},
    {WHEN("[{'input':'x','operator':'in','values':['$(params.env)','$(params.zz)']}]"),
     "UnknownParameter", "step \"a\" references unknown parameter \"zz\" in when[0].values"},
    {WHEN("[{'input':'$(steps.b.results.r)','operator':'in','values':['x']}]"), "InvalidSpec",
     "step \"a\" references unknown step \"b\" in when[0].input"},
    {WHEN("[{'input':'$(matrix.os)','operator':'in','values':['x']}]"), "InvalidSpec",
     "step \"a\" uses $(matrix.os) in when[0].input; matrix values are known in the command, "
     "args and env of the step whose matrix declares them"},
/* results: declared, read only by descendants, phases in finally only */
#define RES2(decl, use)                                                                            \
    "{'steps':[{'name':'b','image':'x','results':" decl                                            \
    "},{'name':'a','image':'x','dependsOn':['b'],'args':['" use "']}]}"
    {RES2("[{'name':'r'}]", "$(steps.b.results.s)"), "InvalidSpec",
     "step \"a\" reads result \"s\" of step \"b\" in args[0], which that step does not declare"},
    {RES2("[{'name':'r'},{'name':'r'}]", "x"), "InvalidSpec",
     "step \"b\": duplicate result name \"r\""},
    {RES2("[{'name':'1r'}]", "x"), "InvalidSpec",
     "step \"b\": results[0].name must be a letter or '_', then letters, digits, '_' or '-' (at "
     "most 63)"},
    {RES2("[{'name':'r','default':1}]", "x"), "InvalidSpec",
     "step \"b\": result \"r\": default must be a string of at most 4096 bytes"},
    {RES2("{'name':'r'}", "x"), "InvalidSpec", "step \"b\": results must be a list of at most 20"},
    {RES2("[{'name':'r'}]", "$(steps.b.phase)"), "InvalidSpec",
     "step \"a\" uses $(steps.NAME.phase) in args[0]; step phases and the run's status are "
     "known to finally steps only"},
    {RES2("[{'name':'r'}]", "$(run.status)"), "InvalidSpec",
     "step \"a\" uses $(run.status) in args[0]; step phases and the run's status are known to "
     "finally steps only"},
    {RES2("[{'name':'r'}]", "$(steps.b.results.r"), "InvalidSpec",
     "step \"a\": args[0] has a malformed reference at offset 0"},
    {"{'steps':[{'name':'b','image':'x','results':[{'name':'r'}]},{'name':'a','image':'x',"
     "'args':['$(steps.b.results.r)']}]}",
     "InvalidSpec",
     "step \"a\" reads a result of step \"b\" in args[0], but does not depend on it (dependsOn, "
     "directly or through other steps): the read could race the step that writes it"},
    /* a sibling that depends on the same step is not an ancestor either */
    {"{'steps':[{'name':'c','image':'x'},{'name':'b','image':'x','dependsOn':['c'],'results':[{"
     "'name':'r'}]},{'name':'a','image':'x','dependsOn':['c'],'env':[{'name':'E','value':'$("
     "steps.b.results.r)'}]}]}",
     "InvalidSpec",
     "step \"a\" reads a result of step \"b\" in env[0].value, but does not depend on it "
     "(dependsOn, directly or through other steps): the read could race the step that writes it"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x','results':[{'name':"
     "'r'}]}]}",
     "InvalidSpec",
     "finally step \"f\" declares results; nothing runs after finally steps to read them"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x'},{'name':'g','image':"
     "'x','args':['$(steps.f.phase)']}]}",
     "InvalidSpec",
     "step \"g\" references finally step \"f\" in args[0]; only main steps can be read"},
    {"{'steps':[{'name':'a','image':'x'}],'results':[{'name':'d','value':'$(steps.a.results.r)'}]}",
     "InvalidSpec",
     "spec.results reads result \"r\" of step \"a\" in spec.results[0].value, which that step "
     "does not declare"},
    {"{'steps':[{'name':'a','image':'x'}],'results':[{'name':'d','value':'$(params.p)'}]}",
     "UnknownParameter",
     "spec.results references unknown parameter \"p\" in spec.results[0].value"},
    {"{'steps':[{'name':'a','image':'x'}],'results':[{'name':'d','value':'x'},{'name':'d','value':"
     "'y'}]}",
     "InvalidSpec", "spec.results: duplicate name \"d\""},
    {"{'steps':[{'name':'a','image':'x'}],'results':[{'name':'d'}]}", "InvalidSpec",
     "spec.results[0] needs a valid name and a string value"},
#undef RES2
/* matrix */
#define MX(m, extra) "{'steps':[{'name':'t','image':'x','matrix':" m extra "}]}"
    {MX("{'params':[]}", ""), "InvalidSpec",
     "step \"t\": matrix must be an object with a list of 1 to 8 params"},
    {MX("{'params':[{'name':'os','values':[]}]}", ""), "InvalidSpec",
     "step \"t\": matrix param \"os\": values must be a list of 1 to 256 strings, or one "
     "$(params.NAME) or $(steps.STEP.results.NAME) holding a JSON array"},
    {MX("{'params':[{'name':'os','values':'linux'}]}", ""), "InvalidSpec",
     "step \"t\": matrix param \"os\": values must be a list of 1 to 256 strings, or one "
     "$(params.NAME) or $(steps.STEP.results.NAME) holding a JSON array"},
    {MX("{'params':[{'name':'os','values':['a']},{'name':'os','values':['b']}]}", ""),
     "InvalidSpec", "step \"t\": matrix param \"os\" appears twice"},
    {MX("{'params':[{'name':'os','values':['a']}],'maxParallel':0}", ""), "InvalidSpec",
     "step \"t\": matrix.maxParallel must be 1 to 256"},
    {MX("{'params':[{'name':'a','values':['1','2','3','4','5','6','7','8','9','10','11','12',"
        "'13','14','15','16','17']},{'name':'b','values':['1','2','3','4','5','6','7','8','9',"
        "'10','11','12','13','14','15','16']}]}",
        ""),
     "InvalidSpec", "step \"t\": matrix has more than 256 combinations"},
    {MX("{'params':[{'name':'os','values':['a']}]}", ",'args':['$(matrix.v)']"), "InvalidSpec",
     "step \"t\" uses $(matrix.v) in args[0]; matrix values are known in the command, args and "
     "env of the step whose matrix declares them"},
    {MX("{'params':[{'name':'os','values':['a']}]}",
        ",'when':[{'input':'$(matrix.os)','operator':'in','values':['a']}]"),
     "InvalidSpec",
     "step \"t\" uses $(matrix.os) in when[0].input; matrix values are known in the command, "
     "args and env of the step whose matrix declares them"},
    {MX("{'params':[{'name':'os','values':'$(params.nope)'}]}", ""), "UnknownParameter",
     "step \"t\" references unknown parameter \"nope\" in matrix.params[0].values"},
    {"{'steps':[{'name':'l','image':'x','results':[{'name':'r'}]},{'name':'t','image':'x',"
     "'matrix':{'params':[{'name':'v','values':'$(steps.l.results.r)'}]}}]}",
     "InvalidSpec",
     "step \"t\" reads a result of step \"l\" in matrix.params[0].values, but does not depend "
     "on it (dependsOn, directly or through other steps): the read could race the step that "
     "writes it"},
    {"{'steps':[{'name':'t','image':'x','matrix':{'params':[{'name':'v','values':['a']}]}},{"
     "'name':'t-1','image':'x'}]}",
     "DuplicateStepName",
     "step name \"t-1\" is the name of a Job of matrix step \"t\" (<step>-<index>); rename one "
     "of them"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x','matrix':{'params':"
     "[{'name':'v','values':['a']}]}}]}",
     "InvalidSpec", "finally step \"f\" cannot have a matrix"},
#undef MX
    {WHEN("[{'input':'$(steps.b)','operator':'in','values':['x']}]"), "InvalidSpec",
     "step \"a\": when[0].input has a malformed reference at offset 0"},
/* podFailurePolicy: the Job API's rules, checked before any Job is made */
#define PFP(x) "{'steps':[{'name':'a','image':'x','podFailurePolicy':" x "}]}"
#define PFP_RULE(x) PFP("{'rules':[" x "]}")
    {PFP("[]"), "InvalidSpec",
     "step \"a\": podFailurePolicy must be an object with a list of rules"},
    {PFP("{}"), "InvalidSpec",
     "step \"a\": podFailurePolicy must be an object with a list of rules"},
    {PFP("{'rules':{}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy must be an object with a list of rules"},
    {PFP_RULE("3"), "InvalidSpec", "step \"a\": podFailurePolicy.rules[0] must be an object"},
    {PFP_RULE("{'action':'FailIndex','onExitCodes':{'operator':'In','values':[42]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].action FailIndex needs an Indexed Job, and a step's "
     "Job is not indexed: use FailJob"},
    {PFP_RULE("{'action':'Retry','onExitCodes':{'operator':'In','values':[42]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].action must be FailJob, Ignore or Count, not "
     "\"Retry\""},
    {PFP_RULE("{'onExitCodes':{'operator':'In','values':[42]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].action must be FailJob, Ignore or Count, not \"\""},
    {PFP_RULE("{'action':'Count'}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0] needs exactly one of onExitCodes and onPodConditions"},
    {PFP_RULE("{'action':'Ignore','onExitCodes':{'operator':'In','values':[1]},"
              "'onPodConditions':[{'type':'DisruptionTarget'}]}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0] needs exactly one of onExitCodes and onPodConditions"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':[42]}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes must be an object"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'Equals','values':[42]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.operator must be In or NotIn, not "
     "\"Equals\""},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'values':[42]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.operator must be In or NotIn, not \"\""},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In','values':[]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values must list 1 to 255 exit codes"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In'}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values must list 1 to 255 exit codes"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In','values':[1,256]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values[1] must be an exit code from 0 to "
     "255"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'NotIn','values':[-1]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values[0] must be an exit code from 0 to "
     "255"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In','values':['42']}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values[0] must be an exit code from 0 to "
     "255"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In','values':[1.5]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values[0] must be an exit code from 0 to "
     "255"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'In','values':[1,0]}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.values must not contain 0 with operator "
     "In (exit code 0 is success)"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'operator':'NotIn','values':[3,1,3]}}"),
     "InvalidSpec", "step \"a\": podFailurePolicy.rules[0].onExitCodes.values lists 3 twice"},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'containerName':'main','operator':'In',"
              "'values':[42]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.containerName must be \"step\" (the "
     "step's container) or the name of one of its podTemplate.spec.initContainers, not \"main\""},
    {PFP_RULE("{'action':'FailJob','onExitCodes':{'containerName':7,'operator':'In',"
              "'values':[42]}}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onExitCodes.containerName must be a string"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':[]}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions must list 1 to 20 conditions"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':{'type':'DisruptionTarget'}}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions must list 1 to 20 conditions"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':[{'status':'True'}]}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions[0].type must be a pod condition type "
     "such as DisruptionTarget"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':[{'type':'Ready'},{'type':'Not ready'}]}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions[1].type must be a pod condition type "
     "such as DisruptionTarget"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':[{'type':'Example.com/x'}]}"), "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions[0].type must be a pod condition type "
     "such as DisruptionTarget"},
    {PFP_RULE("{'action':'Ignore','onPodConditions':[{'type':'DisruptionTarget','status':'Yes'}]}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[0].onPodConditions[0].status must be True, False or "
     "Unknown, not \"Yes\""},
    {PFP("{'rules':[{'action':'Count','onPodConditions':[{'type':'DisruptionTarget'}]},"
         "{'action':'FailJob','onExitCodes':{'operator':'In','values':[0]}}]}"),
     "InvalidSpec",
     "step \"a\": podFailurePolicy.rules[1].onExitCodes.values must not contain 0 with operator "
     "In (exit code 0 is success)"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x','podFailurePolicy':"
     "{'rules':[{'action':'FailIndex','onPodConditions':[{'type':'DisruptionTarget'}]}]}}]}",
     "InvalidSpec",
     "step \"f\": podFailurePolicy.rules[0].action FailIndex needs an Indexed Job, and a step's "
     "Job is not indexed: use FailJob"},
#undef PFP_RULE
#undef PFP
    /* DuplicateStepName, within and across the two lists */
    {"{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x'},{'name':'a','image':'y'}]}",
     "DuplicateStepName", "duplicate step name \"a\""},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'a','image':'x'}]}",
     "DuplicateStepName", "duplicate step name \"a\""},
    /* UnknownDependency and the cross-list rules */
    {"{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x','dependsOn':['a','z']}]}",
     "UnknownDependency", "step \"b\" depends on unknown step \"z\""},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x','dependsOn':['a']}]}",
     "InvalidSpec",
     "finally step \"f\" depends on \"a\", which is not a finally step; finally steps may only "
     "depend on each other"},
    {"{'steps':[{'name':'a','image':'x','dependsOn':['f']}],'finally':[{'name':'f','image':'x'}]}",
     "InvalidSpec", "step \"a\" depends on finally step \"f\"; finally steps run after all steps"},
    /* CycleDetected: arrows read "depends on", the cycle starts at its first step in spec
     * order */
    {"{'steps':[{'name':'a','image':'x','dependsOn':['b']},{'name':'b','image':'x','dependsOn':"
     "['c']},{'name':'c','image':'x','dependsOn':['a']}]}",
     "CycleDetected", "steps form a cycle: a -> b -> c -> a"},
    {"{'steps':[{'name':'a','image':'x','dependsOn':['a']}]}", "CycleDetected",
     "steps form a cycle: a -> a"},
    {"{'steps':[{'name':'x','image':'x'},{'name':'w','image':'x','dependsOn':['z']},{'name':'y',"
     "'image':'x','dependsOn':['x','z']},{'name':'z','image':'x','dependsOn':['y']}]}",
     "CycleDetected", "steps form a cycle: y -> z -> y"},
    {"{'steps':[{'name':'a','image':'x'}],'finally':[{'name':'f','image':'x','dependsOn':['g']},"
     "{'name':'g','image':'x','dependsOn':['f']}]}",
     "CycleDetected", "steps form a cycle: f -> g -> f"},
    /* UnknownParameter */
    {"{'params':[{'name':'repo'}],'steps':[{'name':'build','image':'x','args':['a','$(params."
     "tag)']}]}",
     "UnknownParameter", "step \"build\" references unknown parameter \"tag\" in args[1]"},
    {"{'steps':[{'name':'build','image':'x','command':['echo $(params.x) $(params.y)']}]}",
     "UnknownParameter", "step \"build\" references unknown parameter \"x\" in command[0]"},
    {"{'steps':[{'name':'build','image':'x','env':[{'name':'A','value':'$(params.)'}]}]}",
     "UnknownParameter", "step \"build\" references unknown parameter \"\" in env[0].value"},
};

static void test_invalid(void)
{
    for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
        struct json_object *spec = J(bad_specs[i].spec);
        struct wf_spec *s = NULL;
        struct wf_error err;
        memset(&err, 0, sizeof err);
        int r = wf_spec_parse(spec, &s, &err);
        CHECK_INT(r, -EINVAL);
        CHECK(s == NULL);
        CHECK_STR(err.reason, bad_specs[i].reason);
        CHECK_STR(err.message, bad_specs[i].message);
        if (r != -EINVAL || strcmp(err.message, bad_specs[i].message) != 0)
            fprintf(stderr, "  case %zu: %s\n", i, bad_specs[i].spec);
        wf_spec_free(s);
        json_object_put(spec);
    }
}

static void test_valid_edge_cases(void)
{
    static const char *const ok[] = {
        /* escaped references are not references */
        "{'steps':[{'name':'a','image':'x','args':['$$(params.tag)']}]}",
        /* an unterminated or foreign $( is literal text */
        "{'steps':[{'name':'a','image':'x','args':['$(params.tag','$(HOME)','$x']}]}",
        /* a dependency listed twice; a diamond */
        ("{'steps':[{'name':'a','image':'x'},{'name':'b','image':'x','dependsOn':['a','a']},"
         "{'name':'c','image':'x','dependsOn':['a']},{'name':'d','image':'x','dependsOn':['b','c']}"
         "]}"),
        /* 50 chars exactly */
        "{'steps':[{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','image':'x'}]}",
        /* env from a secret, null fields treated as absent */
        "{'steps':[{'name':'a','image':'x','command':null,'env':[{'name':'T','valueFrom':{}}]}]}",
        /* results: an ancestor through another step; finally steps read any main step's
         * results and phase, and the run's status; spec.results any main step's */
        ("{'steps':[{'name':'b','image':'x','results':[{'name':'r','default':''}]},{'name':'c',"
         "'image':'x','dependsOn':['b']},{'name':'a','image':'x','dependsOn':['c'],'args':["
         "'$(steps.b.results.r)'],'when':[{'input':'$(steps.b.results.r)','operator':'in',"
         "'values':['$(steps.b.results.r)']}]}],'finally':[{'name':'f','image':'x','args':["
         "'$(steps.a.phase) $(run.status) $(steps.b.results.r)']}],'results':[{'name':'out',"
         "'value':'v=$(steps.b.results.r)'}]}"),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct json_object *spec = J(ok[i]);
        struct wf_spec *s = NULL;
        struct wf_error err;
        int r = wf_spec_parse(spec, &s, &err);
        CHECK_INT(r, 0);
        if (r)
            fprintf(stderr, "  case %zu: %s: %s\n", i, ok[i], err.message);
        wf_spec_free(s);
        json_object_put(spec);
    }
}

static void test_too_many_steps(void)
{
    struct json_object *steps = json_object_new_array();
    for (int i = 0; i <= WF_STEPS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        struct json_object *st = json_object_new_object();
        json_object_object_add(st, "name", json_object_new_string(name));
        json_object_object_add(st, "image", json_object_new_string("x"));
        json_object_array_add(steps, st);
    }
    struct json_object *spec = json_object_new_object();
    json_object_object_add(spec, "steps", steps);
    struct wf_spec *s = NULL;
    struct wf_error err;
    CHECK_INT(wf_spec_parse(spec, &s, &err), -EINVAL);
    CHECK_STR(err.message, "too many steps: 501 (at most 500, finally included)");
    /* 500 in a chain: still sorted in spec order */
    json_object_array_del_idx(steps, WF_STEPS_MAX, 1);
    for (int i = 1; i < WF_STEPS_MAX; i++) {
        char dep[16];
        snprintf(dep, sizeof dep, "s%d", i - 1);
        struct json_object *d = json_object_new_array();
        json_object_array_add(d, json_object_new_string(dep));
        json_object_object_add(json_object_array_get_idx(steps, (size_t)i), "dependsOn", d);
    }
    CHECK_INT(wf_spec_parse(spec, &s, &err), 0);
    CHECK_INT(s->order[WF_STEPS_MAX - 1], WF_STEPS_MAX - 1);
    wf_spec_free(s);
    json_object_put(spec);
}

/* ---- podFailurePolicy ------------------------------------------------------ */

/* The policy a spec's first step passes to its Job, as compact JSON, or
 * the error message. */
static const char *policy_of(const char *text, char *buf, size_t cap)
{
    struct json_object *j = J(text);
    struct wf_spec *s = NULL;
    struct wf_error err;
    memset(&err, 0, sizeof err);
    if (wf_spec_parse(j, &s, &err) < 0)
        snprintf(buf, cap, "error: %s", err.message);
    else if (!s->steps[0].pod_failure_policy)
        snprintf(buf, cap, "none");
    else
        snprintf(buf, cap, "%s",
                 json_object_to_json_string_ext(s->steps[0].pod_failure_policy,
                                                JSON_C_TO_STRING_PLAIN |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
    wf_spec_free(s);
    json_object_put(j);
    return buf;
}

static void test_pod_failure_policy(void)
{
    char buf[4096];
    struct {
        const char *spec, *policy;
    } ok[] = {
        {"{'steps':[{'name':'a','image':'x'}]}", "none"},
        {"{'steps':[{'name':'a','image':'x','podFailurePolicy':null}]}", "none"},
        /* the shape of the issue: fail at once on 42, do not count disruptions */
        {"{'steps':[{'name':'a','image':'x','retries':3,'podFailurePolicy':{'rules':["
         "{'action':'FailJob','onExitCodes':{'containerName':'step','operator':'In','values':[42]}}"
         ","
         "{'action':'Ignore','onPodConditions':[{'type':'DisruptionTarget','status':'True'}]}]}}]}",
         "{\"rules\":[{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"step\","
         "\"operator\":\"In\",\"values\":[42]}},{\"action\":\"Ignore\",\"onPodConditions\":"
         "[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}]}]}"},
        /* values sorted (the Job API wants them ascending); status defaults to True;
         * NotIn may hold 0; unknown fields are not passed on */
        {"{'steps':[{'name':'a','image':'x','podFailurePolicy':{'extra':1,'rules':["
         "{'action':'Count','onExitCodes':{'operator':'NotIn','values':[255,0,3],'x':1}},"
         "{'action':'Ignore','onPodConditions':[{'type':'example.com/Preempted'},"
         "{'type':'Ready','status':'False'}],'y':2}]}}]}",
         "{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\","
         "\"values\":[0,3,255]}},{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":"
         "\"example.com/Preempted\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":"
         "\"False\"}]}]}"},
        /* an init container the podTemplate adds may be named */
        {"{'steps':[{'name':'a','image':'x','podTemplate':{'spec':{'initContainers':[{'name':"
         "'setup','image':'y'}]}},'podFailurePolicy':{'rules':[{'action':'FailJob','onExitCodes':"
         "{'containerName':'setup','operator':'In','values':[2]}}]}}]}",
         "{\"rules\":[{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"setup\","
         "\"operator\":\"In\",\"values\":[2]}}]}"},
        /* no rules: allowed, as by the Job API */
        {"{'steps':[{'name':'a','image':'x','podFailurePolicy':{'rules':[]}}]}", "{\"rules\":[]}"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_STR(policy_of(ok[i].spec, buf, sizeof buf), ok[i].policy);

    /* the bounds: 20 rules, 255 exit codes, 20 conditions */
    struct json_object *spec = J("{'steps':[{'name':'a','image':'x','podFailurePolicy':"
                                 "{'rules':[]}}]}");
    struct json_object *step = json_object_array_get_idx(json_object_object_get(spec, "steps"), 0);
    struct json_object *rules =
        json_object_object_get(json_object_object_get(step, "podFailurePolicy"), "rules");
    struct json_object *codes = json_object_new_array();
    for (int c = 255; c >= 1; c--)
        json_object_array_add(codes, json_object_new_int(c));
    struct json_object *oe = json_object_new_object();
    json_object_object_add(oe, "operator", json_object_new_string("In"));
    json_object_object_add(oe, "values", codes);
    struct json_object *r0 = json_object_new_object();
    json_object_object_add(r0, "action", json_object_new_string("FailJob"));
    json_object_object_add(r0, "onExitCodes", oe);
    json_object_array_add(rules, r0);
    struct json_object *conds = json_object_new_array();
    for (int c = 0; c < 20; c++)
        json_object_array_add(conds, J("{'type':'DisruptionTarget'}"));
    struct json_object *r1 = json_object_new_object();
    json_object_object_add(r1, "action", json_object_new_string("Ignore"));
    json_object_object_add(r1, "onPodConditions", conds);
    json_object_array_add(rules, r1);
    for (int i = 2; i < 20; i++)
        json_object_array_add(rules, J("{'action':'Count','onExitCodes':{'operator':'In',"
                                       "'values':[1]}}"));
    struct wf_spec *s = NULL;
    struct wf_error err;
    CHECK_INT(wf_spec_parse(spec, &s, &err), 0);
    if (s) {
        struct json_object *r = json_object_array_get_idx(
            json_object_object_get(s->steps[0].pod_failure_policy, "rules"), 0);
        struct json_object *v =
            json_object_object_get(json_object_object_get(r, "onExitCodes"), "values");
        CHECK_INT(json_object_array_length(v), 255);
        CHECK_INT(json_object_get_int(json_object_array_get_idx(v, 0)), 1); /* sorted */
        CHECK_INT(json_object_get_int(json_object_array_get_idx(v, 254)), 255);
    }
    wf_spec_free(s);
    s = NULL;
    json_object_array_add(rules, J("{'action':'Count','onExitCodes':{'operator':'In',"
                                   "'values':[1]}}"));
    CHECK_INT(wf_spec_parse(spec, &s, &err), -EINVAL);
    CHECK_STR(err.message, "step \"a\": podFailurePolicy has 21 rules (at most 20)");
    json_object_array_del_idx(rules, 20, 1);
    json_object_array_add(codes, json_object_new_int(7));
    CHECK_INT(wf_spec_parse(spec, &s, &err), -EINVAL);
    CHECK_STR(err.message,
              "step \"a\": podFailurePolicy.rules[0].onExitCodes.values must list 1 to 255 exit "
              "codes");
    json_object_array_del_idx(codes, 255, 1);
    json_object_array_add(conds, J("{'type':'DisruptionTarget'}"));
    CHECK_INT(wf_spec_parse(spec, &s, &err), -EINVAL);
    CHECK_STR(err.message,
              "step \"a\": podFailurePolicy.rules[1].onPodConditions must list 1 to 20 "
              "conditions");
    json_object_array_del_idx(conds, 20, 1);
    CHECK_INT(wf_spec_parse(spec, &s, &err), 0);
    wf_spec_free(s);
    json_object_put(spec);
}

/* ---- parameters ---------------------------------------------------------- */

static struct wf_spec *spec_of(const char *text)
{
    struct json_object *j = J(text);
    struct wf_spec *s = NULL;
    wf_spec_parse(j, &s, NULL);
    json_object_put(j);
    return s;
}

static void test_params_resolve(void)
{
    struct wf_spec *s =
        spec_of("{'params':[{'name':'repo','default':'r0'},{'name':'tag'},"
                "{'name':'empty','default':''}],'steps':[{'name':'a','image':'x'}]}");
    struct wf_params *p = NULL;
    struct wf_error err;
    struct json_object *rp = J("[{'name':'tag','value':'v1'}]");
    CHECK_INT(wf_params_resolve(s, rp, &p, &err), 0);
    CHECK_INT(p->n, 3);
    CHECK_STR(wf_params_get(p, "repo"), "r0");
    CHECK_STR(wf_params_get(p, "tag"), "v1");
    CHECK_STR(wf_params_get(p, "empty"), "");
    CHECK(wf_params_get(p, "nope") == NULL);

    /* round trip through status.resolvedParams */
    struct json_object *js = wf_params_to_json(p);
    CHECK_STR(json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN),
              "[{\"name\":\"repo\",\"value\":\"r0\"},{\"name\":\"tag\",\"value\":\"v1\"},"
              "{\"name\":\"empty\",\"value\":\"\"}]");
    struct wf_params *back = NULL;
    CHECK_INT(wf_params_from_json(js, &back), 0);
    CHECK_INT(back->n, 3);
    CHECK_STR(back->kv[1].value, "v1");
    wf_params_free(back);
    json_object_put(js);
    wf_params_free(p);
    json_object_put(rp);

    /* run value overrides a default */
    rp = J("[{'name':'repo','value':'r1'},{'name':'tag','value':'v'}]");
    CHECK_INT(wf_params_resolve(s, rp, &p, &err), 0);
    CHECK_STR(wf_params_get(p, "repo"), "r1");
    wf_params_free(p);
    json_object_put(rp);

    struct {
        const char *run;
        const char *reason, *message;
    } bad[] = {
        {NULL, "MissingParameter", "parameter \"tag\" has no value and no default"},
        {"[]", "MissingParameter", "parameter \"tag\" has no value and no default"},
        {"[{'name':'tag','value':'v'},{'name':'zzz','value':'1'}]", "UnknownParameter",
         "run sets parameter \"zzz\", which the workflow does not declare"},
        {"[{'name':'tag','value':'v'},{'name':'tag','value':'w'}]", "InvalidSpec",
         "run sets parameter \"tag\" twice"},
        {"[{'value':'v'}]", "InvalidSpec",
         "run spec.params[0] must be an object with a name and a string value"},
        {"[{'name':'tag','value':3}]", "InvalidSpec",
         "run spec.params[0] must be an object with a name and a string value"},
        {"{}", "InvalidSpec", "run spec.params must be a list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp = bad[i].run ? J(bad[i].run) : NULL;
        p = NULL;
        CHECK_INT(wf_params_resolve(s, rp, &p, &err), -EINVAL);
        CHECK(p == NULL);
        CHECK_STR(err.reason, bad[i].reason);
        CHECK_STR(err.message, bad[i].message);
        json_object_put(rp);
    }
    struct json_object *broken = J("[{'name':'a'}]");
    CHECK_INT(wf_params_from_json(broken, &p), -EINVAL);
    json_object_put(broken);
    wf_spec_free(s);
}

static void test_subst(void)
{
    struct json_object *js =
        J("[{'name':'tag','value':'v1.2'},{'name':'repo','value':'git@x:y.git'},"
          "{'name':'evil','value':'; rm -rf / #'},"
          "{'name':'dollar','value':'a$b$(HOME)'},"
          "{'name':'indirect','value':'$(params.tag)'},"
          "{'name':'empty','value':''}]");
    struct wf_params *p = NULL;
    CHECK_INT(wf_params_from_json(js, &p), 0);
    json_object_put(js);
    struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"plain text", "plain text"},
        {"$(params.tag)", "v1.2"},
        {"x-$(params.tag)-$(params.tag)-y", "x-v1.2-v1.2-y"},
        {"$(params.tag)$(params.repo)", "v1.2git@x:y.git"},
        /* literal text, no shell: metacharacters pass through untouched */
        {"echo $(params.evil)", "echo ; rm -rf / #"},
        /* '$' in a value is doubled: the kubelet turns "$$" back into "$" */
        {"$(params.dollar)", "a$$b$$(HOME)"},
        /* a value is not scanned again */
        {"$(params.indirect)", "$$(params.tag)"},
        /* the escape stays for the kubelet, which yields "$(params.tag)" */
        {"$$(params.tag)", "$$(params.tag)"},
        {"$$$(params.tag)", "$$v1.2"},
        {"cost: $5, $$, $", "cost: $5, $$, $"},
        {"$(params.tag", "$(params.tag"},
        {"$(HOME) $(params.empty)!", "$(HOME) !"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        CHECK_INT(wf_subst(cases[i].in, p, &out), 0);
        CHECK_STR(out, cases[i].out);
        free(out);
    }
    char sentinel[] = "untouched";
    char *out = sentinel;
    CHECK_INT(wf_subst("a $(params.nope) b", p, &out), -ENOENT);
    CHECK_STR(out, "untouched");
    wf_params_free(p);
}

int main(void)
{
    RUN(test_parse_fixture);
    RUN(test_defaults);
    RUN(test_invalid);
    RUN(test_valid_edge_cases);
    RUN(test_too_many_steps);
    RUN(test_pod_failure_policy);
    RUN(test_params_resolve);
    RUN(test_subst);
    return check_finish();
}
