/* The Trigger unit tests' one helper: a spec parsed from JSON text, or the
 * test aborts naming why (test_trigger_hook.c, test_trigger_run.c). */
#ifndef RB_TEST_TRIGGER_SPEC_OF_H
#define RB_TEST_TRIGGER_SPEC_OF_H

#include <stdio.h>
#include <stdlib.h>

#include "trigger/trigger.h"

static inline struct trig_spec *spec_of(const char *json)
{
    struct json_object *o = json_tokener_parse(json);
    struct trig_spec *s = NULL;
    struct trig_error err;
    int r = trig_spec_parse(o, &s, &err);
    json_object_put(o);
    if (r < 0) {
        fprintf(stderr, "spec: %s\n", err.message);
        abort();
    }
    return s;
}

#endif
