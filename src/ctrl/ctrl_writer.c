/* The executor's writer: the kube client's verbs behind struct ctrl_writer,
 * so that tests can stand a recorder in its place (see ctrl.h). */
#include "ctrl/ctrl-internal.h"
#include "kube/kube.h"

static int k_create(void *ud, const struct kube_resource *res, const char *ns,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    return kube_create(ud, res, ns, body, cb, cb_ud);
}

static int k_patch(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                   const char *body, size_t len, const struct kube_patch_opts *po, kube_cb cb,
                   void *cb_ud)
{
    return kube_patch(ud, res, ns, name, body, len, po, cb, cb_ud);
}

static int k_delete(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                    struct json_object *body, kube_cb cb, void *cb_ud)
{
    return kube_delete_body(ud, res, ns, name, body, cb, cb_ud);
}

static int k_get(void *ud, const struct kube_resource *res, const char *ns, const char *name,
                 kube_cb cb, void *cb_ud)
{
    return kube_get(ud, res, ns, name, cb, cb_ud);
}

static int k_list(void *ud, const struct kube_resource *res, const char *ns,
                  const struct kube_list_opts *opts, kube_cb cb, void *cb_ud)
{
    return kube_list(ud, res, ns, opts, cb, cb_ud);
}

const struct ctrl_writer ctrl_kube_writer = {k_create, k_patch, k_delete, k_get, k_list, NULL};

int ctrl_writer_send_event(void *ud, const char *ns, struct json_object *ev, kube_cb cb,
                           void *cb_ud)
{
    struct ctrl *c = ud;
    return c->w.create(c->w.ud, &KUBE_EVENTS, ns, ev, cb, cb_ud);
}
