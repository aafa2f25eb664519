/*
 * command.h: XEP-0050 ad-hoc commands offered by a component on its domain
 * or at the JIDs of its entities (local@domain: a room, a contact).
 *
 * A command is a table: a node, a name, its stages (each a form builder and
 * an optional check) and the function that runs it. The framework does the
 * protocol: the command list in disco#items (node
 * 'http://jabber.org/protocol/commands'), disco#info on each command node,
 * the commands feature, sessions (sessionid, time-out; a session is
 * continued only by its requester at the JID it was opened at), the
 * <actions/> of each stage (next, prev, complete), prev (the earlier
 * stage's form again, filled with what was submitted), cancel, and the
 * checks of every submitted form against the form that was shown (required
 * fields, field types: xd_form_check). The command's functions only see
 * values that passed those checks. Errors are the ones XEP-0050 4.4 names:
 * <bad-request/> with <malformed-action/>, <bad-action/>, <bad-sessionid/>
 * or <bad-payload/> (a form that fails its checks, with a <text/> naming the
 * field), <not-allowed/> with <session-expired/>, <forbidden/>,
 * <item-not-found/>.
 *
 * The commands are a component's (xd_component_add_command), or those of
 * a registry of their own (xd_commands_new) for a program that is not a
 * component: the router offers commands at its hosts that way. Only in
 * such a registry may a run wait for work done off the loop
 * (xd_command_defer, xd_command_resume).
 */
#ifndef XMPPD_COMMAND_H
#define XMPPD_COMMAND_H

#include <stddef.h>

#include <xmppd/component.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XD_NS_COMMANDS "http://jabber.org/protocol/commands"

/* What a check or a run decided. */
typedef enum xd_command_status {
    XD_COMMAND_EXECUTING,   /* a check: accepted, on to the next stage */
    XD_COMMAND_COMPLETED,   /* done; the reply may carry a result form, notes */
    XD_COMMAND_FORBIDDEN,   /* the requester may not: <forbidden/>, ended */
    XD_COMMAND_BAD_REQUEST, /* the values are wrong: <bad-payload/>; a session
                               stays at its stage so the form can be sent
                               again */
    XD_COMMAND_FAILED,      /* the error xd_command_fail set: ended */
    XD_COMMAND_PENDING,     /* a run that took xd_command_defer's handle:
                               the answer waits for xd_command_resume
                               (without the handle: internal-server-error) */
} xd_command_status;

/* Why a command's end function is called. */
typedef enum xd_command_end {
    XD_COMMAND_END_COMPLETED, /* answered completed */
    XD_COMMAND_END_CANCELED,  /* the requester sent action='cancel' */
    XD_COMMAND_END_EXPIRED,   /* no request within the time-out (10 minutes) */
    XD_COMMAND_END_REFUSED,   /* answered with an error (forbidden, or a bad
                                 form with the first request) */
    XD_COMMAND_END_SHUTDOWN,  /* xd_component_free or xd_commands_free with
                                 the session open (a deferred run too) */
} xd_command_end;

/* One execution of a command: a session, or a single request for a
 * command without stages. Borrowed by the command's functions for the
 * length of the call; never keep it. */
typedef struct xd_command_ctx xd_command_ctx;

/* Adds the fields of a stage's form to `form` (an <x type='form'/> the
 * framework made, with the stage's title and instructions). It is called
 * each time the stage is shown and again to check a submission against
 * it, so it must build the same fields for the same session. */
typedef void (*xd_command_form_fn)(xd_command_ctx *cx, xd_elem *form);
/* A stage's check or the command's run: `values` is the submitted
 * jabber:x:data form of the stage (type submit), already checked against
 * the stage's form and holding only that form's fields; for a command
 * without stages, the form the request carries as it came, or NULL. */
typedef xd_command_status (*xd_command_fn)(xd_command_ctx *cx,
                                           const xd_elem *values);
/*
 * The stage -1 contract: end is called exactly once for every execution
 * that reached the command (a form shown or a function called), after the
 * last other call, however it ends (`why`); a command that keeps something
 * in *xd_command_state(cx) frees it here and nowhere else. Requester,
 * target and the values submitted so far are still readable; the reply is
 * there on completion and cancel only (NULL otherwise: a note added then
 * goes nowhere).
 */
typedef void (*xd_command_end_fn)(xd_command_ctx *cx, xd_command_end why);
/* A visibility check: 1 when `requester` (a full JID) may see and run the
 * command at `target` (the domain, or the entity's JID); NULL means
 * everyone. It is asked again at every request of a session. `c` is the
 * component, NULL for the commands of an xd_commands_new registry. */
typedef int (*xd_command_allowed_fn)(xd_component *c, const char *requester,
                                     const char *target, void *arg);

/* A stage: one form the requester fills in. */
typedef struct xd_command_stage {
    const char *title;        /* the form's <title/>; NULL: none */
    const char *instructions; /* its <instructions/>; NULL: none */
    xd_command_form_fn form;  /* adds the fields (required) */
    xd_command_fn check;      /* NULL: the checked values are accepted */
} xd_command_stage;

/*
 * A command. Without stages, run is called on execute with the form the
 * request carries (unchecked) or NULL, and the answer is completed. With
 * stages, stage 0's form is shown first (or, when the first request
 * carries a submitted form, that form is taken as stage 0's); each
 * submission is checked (xd_form_check against the stage's form), then
 * given to the stage's check, and after the last stage's, run completes
 * the command. Stage k of n offers <actions execute='next'><next/>
 * </actions> (k < n-1) or execute='complete' with <complete/> (the last),
 * and <prev/> when k > 0; action='execute' means the offered default.
 * Bounds: 4096 open sessions, 16 per requester (bare JID; more are
 * answered <resource-constraint/>), 16 KiB of kept values per session (a
 * larger submission is refused with <bad-payload/>).
 */
typedef struct xd_command {
    const char *node;               /* the command's node (required) */
    const char *name;               /* its name in disco (required) */
    const xd_command_stage *stages; /* NULL with nstages 0 */
    size_t nstages;
    xd_command_fn run;             /* required */
    xd_command_end_fn end;         /* NULL: nothing to free */
    xd_command_allowed_fn allowed; /* NULL: everyone */
} xd_command;

/* Offers `cmd` on the component's domain; `arg` is handed to its functions
 * (xd_command_arg) and to allowed. The table (and its stages and strings)
 * is borrowed: it must outlive c, as a static const table does. 0,
 * XD_EINVAL (no node, name or run, or a stage without a form) or
 * XD_EEXIST (the node is registered already; the first one stays).
 * Commands the requester is not allowed to run are hidden from its
 * disco#items and answered <forbidden/>. */
int xd_component_add_command(xd_component *c, const xd_command *cmd, void *arg);
/* The same, offered at every entity JID of the domain (local@domain, no
 * resource) instead of at the domain. A component that answers iqs to its
 * entities itself hands them to xd_component_command_answer first. */
int xd_component_add_entity_command(xd_component *c, const xd_command *cmd,
                                    void *arg);
/* The answer to `iq` when it is a command request or command discovery
 * (disco#items of the commands node, disco#info of a command node) at the
 * domain or an entity JID; NULL when it is neither. The caller owns the
 * answer (xd_component_send takes it). */
xd_stanza *xd_component_command_answer(xd_component *c, const xd_stanza *iq);

/* --- a registry of its own, for a program that is not a component ------- */

typedef struct xd_commands xd_commands;
/* Sends an answer (takes ownership of st): where a deferred run's answer
 * goes, and every answer of xd_commands_handle. */
typedef void (*xd_commands_send_fn)(xd_stanza *st, void *arg);

/* A registry offering commands at `jid` (a domain; entity commands at
 * local@jid), its session timers on `base`, its answers sent with
 * send(st, arg) (required). The caller owns it (xd_commands_free); `jid`
 * is copied. Nothing is advertised in disco#info: the program lists
 * XD_NS_COMMANDS itself. */
xd_commands *xd_commands_new(struct event_base *base, const char *jid,
                             xd_commands_send_fn send, void *arg);
/* Ends the open sessions (their end functions see SHUTDOWN: a deferred
 * run cancels its work there), then frees. Needs `base` still there. NULL
 * is a no-op. */
void xd_commands_free(xd_commands *cmds);
/* xd_component_add_command and xd_component_add_entity_command for a
 * registry; the same results and the same borrowing of the table. */
int xd_commands_add(xd_commands *cmds, const xd_command *cmd, void *arg);
int xd_commands_add_entity(xd_commands *cmds, const xd_command *cmd, void *arg);
/* XD_HANDLED when `iq` is a command request or command discovery at the
 * registry's JID or an entity JID: the answer is sent (now, or when a
 * deferred run resumes); XD_PASS, nothing sent, otherwise. */
xd_verdict xd_commands_handle(xd_commands *cmds, const xd_stanza *iq);

/* --- inside a command's functions ----------------------------------------
 * Strings returned are borrowed and live as long as the call. */

/* The component; NULL in an xd_commands_new registry. */
xd_component *xd_command_component(const xd_command_ctx *cx);
/* The requester's full JID. */
const char *xd_command_requester(const xd_command_ctx *cx);
/* Its bare JID, prepared (xd_jid_bare_of): the key of per-user state; ""
 * when the requester is not a valid JID. */
const char *xd_command_requester_bare(const xd_command_ctx *cx);
/* Where the command runs: the domain, or the entity's JID. */
const char *xd_command_target(const xd_command_ctx *cx);
/* The arg given at registration. */
void *xd_command_arg(const xd_command_ctx *cx);
/* One pointer kept for the session, NULL at first; what the command stores
 * there is its own, freed in its end function. */
void **xd_command_state(xd_command_ctx *cx);
/* The stage the call is about (the form shown or checked; nstages for
 * run and end after the last stage). */
int xd_command_current_stage(const xd_command_ctx *cx);
/* The checked values submitted for `stage` (kept across the session, and
 * after a prev), or NULL when none were. */
const xd_elem *xd_command_values(const xd_command_ctx *cx, int stage);
/* The first value of field `var` in the values submitted so far, the
 * latest stage first ("" for a field without a value); NULL when no stage
 * had the field. */
const char *xd_command_value(const xd_command_ctx *cx, const char *var);
/* xd_command_value read as a decimal integer (for a field the stage's form
 * validated with xd_form_field_validate_int or integer options); 0 when no
 * stage had the field or its value is not an integer. */
long long xd_command_value_int(const xd_command_ctx *cx, const char *var);
/* xd_command_value read as a boolean: 1 for "1" or "true", 0 otherwise
 * (also when no stage had the field). */
int xd_command_value_bool(const xd_command_ctx *cx, const char *var);
/* The <command/> element of the answer, where a run adds a result form
 * (xd_form_add(reply, "result", ...)); NULL when there is no answer (end
 * on expiry, shutdown, refusal). */
xd_elem *xd_command_reply(xd_command_ctx *cx);

/*
 * Deferring a run (an xd_commands_new registry, a command with stages):
 * called in the run, it returns a handle on the execution and the run
 * returns XD_COMMAND_PENDING; the session waits without expiring, and other
 * requests for it are answered <unexpected-request/>. When the work is done
 * (on the loop), xd_command_resume(d, fn) calls fn as the run (the same
 * values, state, reply), answers as its status says (PENDING again is
 * internal-server-error) and frees the handle. NULL when the run cannot
 * wait: a component's command, a command without stages, or outside a
 * run. The handle is gone once the end function is called (shutdown): the
 * command cancels its work there and never resumes.
 */
typedef struct xd_command_deferred xd_command_deferred;
xd_command_deferred *xd_command_defer(xd_command_ctx *cx);
void xd_command_resume(xd_command_deferred *d, xd_command_fn fn);

/* What a check or run returns to refuse with an error of its own: a
 * defined condition of RFC 6120 8.3.3 (a static string: "conflict",
 * "item-not-found", "not-acceptable", "resource-constraint"...; NULL:
 * internal-server-error) and a <text/> (NULL: none; copied, 255 bytes
 * kept). Returns XD_COMMAND_FAILED, the session ended; for "bad-request",
 * XD_COMMAND_BAD_REQUEST (<bad-payload/> with the text; the session stays
 * at its stage). */
xd_command_status xd_command_fail(xd_command_ctx *cx, const char *condition,
                                  const char *text);

/* The type of a <note/> in a command's reply (XEP-0050 3.4). */
typedef enum xd_command_note {
    XD_COMMAND_NOTE_INFO,
    XD_COMMAND_NOTE_WARN,
    XD_COMMAND_NOTE_ERROR,
} xd_command_note;

/* Adds <note type=…>text</note> to `reply` (a <command/> element, e.g.
 * xd_command_reply(cx); text NULL: an empty note) and returns it; NULL and
 * nothing done when reply is NULL. */
xd_elem *xd_command_add_note(xd_elem *reply, xd_command_note type,
                             const char *text);

#ifdef __cplusplus
}
#endif
#endif
