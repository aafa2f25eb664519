/*
 * command.h: XEP-0050 ad-hoc commands offered by a component on its domain
 * or at the JIDs of its entities (local@domain: a room, a contact).
 *
 * The component lists registered commands in disco#items (node
 * 'http://jabber.org/protocol/commands'), answers disco#info on each command
 * node, advertises the commands feature, keeps sessions of multi-stage
 * commands (sessionid, time-out, cancel; a session stays at the JID it was
 * opened at) and answers bad-request / item-not-found / bad-sessionid as
 * XEP-0050 names. The command's function only sees what was submitted and
 * fills the reply.
 */
#ifndef XMPPD_COMMAND_H
#define XMPPD_COMMAND_H

#include <xmppd/component.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XD_NS_COMMANDS "http://jabber.org/protocol/commands"

/* What a command function decided. */
typedef enum xd_command_status {
    XD_COMMAND_EXECUTING,   /* reply carries the next form; session kept */
    XD_COMMAND_COMPLETED,   /* done; reply may carry a result form or note */
    XD_COMMAND_FORBIDDEN,   /* the requester may not run it: <forbidden/> */
    XD_COMMAND_BAD_REQUEST, /* the submitted form is wrong: <bad-request/> */
} xd_command_status;

/*
 * A command stage. `iq` is the request (borrowed; its from is the
 * requester, its to the domain or entity the command runs at), `submitted`
 * the submitted jabber:x:data form it carries or NULL (usually NULL on the
 * first stage, but a requester may submit at once), `stage` 0 on the first
 * call and +1 on each later one of the same session. Add a form or <note/>
 * children to `reply` (the <command/> element of the answer). `state` is one
 * pointer kept for the session: the function owns what it stores there and
 * frees it when it returns COMPLETED/FORBIDDEN/BAD_REQUEST; on cancel, time-out
 * or xd_component_free the framework calls fn with submitted NULL and stage -1
 * so it can free it (on time-out and free, `iq` is a cancel request made up
 * from the session and `reply` goes nowhere). A command returning EXECUTING
 * gets <actions execute='complete'><complete/></actions> in its reply;
 * BAD_REQUEST is answered <bad-request/> with <bad-payload/>. Sessions time
 * out after 10 minutes without a request.
 */
typedef xd_command_status (*xd_command_fn)(xd_component *c, const xd_stanza *iq,
                                           const xd_elem *submitted, int stage,
                                           xd_elem *reply, void **state,
                                           void *arg);
/* The type of a <note/> in a command's reply (XEP-0050 3.4). */
typedef enum xd_command_note {
    XD_COMMAND_NOTE_INFO,
    XD_COMMAND_NOTE_WARN,
    XD_COMMAND_NOTE_ERROR,
} xd_command_note;

/* Adds <note type=…>text</note> to `reply` (the <command/> element a
 * command function fills; text NULL: an empty note) and returns it. */
xd_elem *xd_command_add_note(xd_elem *reply, xd_command_note type,
                             const char *text);

/* A visibility check: 1 when `requester` (a full JID) may see and run the
 * command at `target` (the domain, or the entity's JID); NULL means
 * everyone. */
typedef int (*xd_command_allowed_fn)(xd_component *c, const char *requester,
                                     const char *target, void *arg);

/* Offers a command on the component's domain under `node` named `name`
 * (copied); a second registration of the same node is ignored (logged).
 * Commands the requester is not allowed to run are hidden from its
 * disco#items and answered <forbidden/>. */
void xd_component_add_command(xd_component *c, const char *node,
                              const char *name, xd_command_fn fn,
                              xd_command_allowed_fn allowed, void *arg);
/* The same, offered at every entity JID of the domain (local@domain, no
 * resource) instead of at the domain. A component that answers iqs to its
 * entities itself hands them to xd_component_command_answer first. */
void xd_component_add_entity_command(xd_component *c, const char *node,
                                     const char *name, xd_command_fn fn,
                                     xd_command_allowed_fn allowed, void *arg);
/* The answer to `iq` when it is a command request or command discovery
 * (disco#items of the commands node, disco#info of a command node) at the
 * domain or an entity JID; NULL when it is neither. The caller sends the
 * answer (xd_component_send takes it). */
xd_stanza *xd_component_command_answer(xd_component *c, const xd_stanza *iq);

#ifdef __cplusplus
}
#endif
#endif
