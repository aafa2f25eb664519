/*
 * room_config.c: a room's configuration: defaults from the service, the
 * muc#roomconfig form (XEP-0045 10.2, every standard field), the
 * muc#roominfo form and muc_* features of disco#info, and the text form it
 * is stored in.
 */
#define XD_LOG_AREA "muc"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <xmppd/buf.h>
#include <xmppd/form.h>
#include <xmppd/log.h>

#include "muc.h"

#define ROLES_ALL                                                              \
    (MUC_ROLE_BIT(MUC_ROLE_MODERATOR) | MUC_ROLE_BIT(MUC_ROLE_PARTICIPANT) |   \
     MUC_ROLE_BIT(MUC_ROLE_VISITOR))

static const char *const role_names[] = { "none", "visitor", "participant",
                                          "moderator" };
static const char *const pm_names[] = { "anyone", "participants", "moderators",
                                        "none" };

void
muc_config_defaults(const struct muc_service *svc, struct muc_room_config *c)
{
    memset(c, 0, sizeof(*c));
    c->persistent = svc->conf.default_persistent;
    c->public_ = svc->conf.default_public;
    c->archive = svc->conf.default_archive;
    c->semianon = svc->conf.default_semianon;
    c->change_subject = svc->conf.default_change_subject;
    c->voice_requests = 1;
    c->allow_nick_change = 1;
    c->allowpm = MUC_PM_ANYONE;
    c->max_users = (long)svc->conf.default_max_users;
    c->max_history = (long)svc->conf.history_default;
    c->presence_broadcast = ROLES_ALL;
    c->getmemberlist = ROLES_ALL;
}

void
muc_config_free(struct muc_room_config *c)
{
    free(c->name);
    free(c->desc);
    free(c->lang);
    free(c->password);
    memset(c, 0, sizeof(*c));
}

void
muc_config_copy(struct muc_room_config *dst, const struct muc_room_config *src)
{
    *dst = *src;
    dst->name = xd_xstrdup(src->name);
    dst->desc = xd_xstrdup(src->desc);
    dst->lang = xd_xstrdup(src->lang);
    dst->password = xd_xstrdup(src->password);
}

/* --- stored form: one "key value" line per setting ----------------------- */

static void
put_str(xd_buf *b, const char *key, const char *v)
{
    if (v == NULL)
        return;
    xd_buf_append_str(b, key);
    xd_buf_append(b, " ", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '\n')
            xd_buf_append_str(b, "%0A");
        else if (*p == '%')
            xd_buf_append_str(b, "%25");
        else
            xd_buf_append(b, p, 1);
    }
    xd_buf_append(b, "\n", 1);
}

char *
muc_config_serialise(const struct muc_room_config *c)
{
    xd_buf b = { 0 };

    put_str(&b, "name", c->name);
    put_str(&b, "desc", c->desc);
    put_str(&b, "lang", c->lang);
    put_str(&b, "password", c->password);
    xd_buf_appendf(&b,
                   "persistent %d\npublic %d\nmembers_only %d\nmoderated %d\n"
                   "password_protected %d\nsemianon %d\nallow_invites %d\n"
                   "change_subject %d\narchive %d\nvoice_requests %d\n"
                   "allow_nick_change %d\nallowpm %d\nmax_users %ld\n"
                   "max_history %ld\npresence_broadcast %u\n"
                   "getmemberlist %u\n",
                   c->persistent, c->public_, c->members_only, c->moderated,
                   c->password_protected, c->semianon, c->allow_invites,
                   c->change_subject, c->archive, c->voice_requests,
                   c->allow_nick_change, (int)c->allowpm, c->max_users,
                   c->max_history, c->presence_broadcast, c->getmemberlist);
    return xd_buf_steal(&b);
}

static char *
unescape(const char *v, size_t n)
{
    char *out = xd_xmalloc(n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%' && i + 2 < n) {
            if (strncmp(v + i, "%0A", 3) == 0) {
                *o++ = '\n';
                i += 2;
                continue;
            }
            if (strncmp(v + i, "%25", 3) == 0) {
                *o++ = '%';
                i += 2;
                continue;
            }
        }
        *o++ = v[i];
    }
    *o = '\0';
    return out;
}

/* The integer settings, by name, for the stored form. */
#define INT_FIELD(k, f)                                                        \
    {                                                                          \
        k, offsetof(struct muc_room_config, f), sizeof(int)                    \
    }
#define LONG_FIELD(k, f)                                                       \
    {                                                                          \
        k, offsetof(struct muc_room_config, f), sizeof(long)                   \
    }
static const struct {
    const char *key;
    size_t offset, size;
} int_fields[] = {
    INT_FIELD("persistent", persistent),
    INT_FIELD("public", public_),
    INT_FIELD("members_only", members_only),
    INT_FIELD("moderated", moderated),
    INT_FIELD("password_protected", password_protected),
    INT_FIELD("semianon", semianon),
    INT_FIELD("allow_invites", allow_invites),
    INT_FIELD("change_subject", change_subject),
    INT_FIELD("archive", archive),
    INT_FIELD("voice_requests", voice_requests),
    INT_FIELD("allow_nick_change", allow_nick_change),
    INT_FIELD("allowpm", allowpm),
    LONG_FIELD("max_users", max_users),
    LONG_FIELD("max_history", max_history),
    INT_FIELD("presence_broadcast", presence_broadcast),
    INT_FIELD("getmemberlist", getmemberlist),
};

static void
set_field(struct muc_room_config *c, const char *key, size_t klen, char *val)
{
    char **strs[] = { &c->name, &c->desc, &c->lang, &c->password };
    static const char *const str_keys[] = { "name", "desc", "lang",
                                            "password" };

    for (size_t i = 0; i < XD_NELEM(strs); i++)
        if (strlen(str_keys[i]) == klen &&
            strncmp(key, str_keys[i], klen) == 0) {
            free(*strs[i]);
            *strs[i] = xd_xstrdup(val);
            return;
        }
    long n = strtol(val, NULL, 10);
    for (size_t i = 0; i < XD_NELEM(int_fields); i++) {
        if (strlen(int_fields[i].key) != klen ||
            strncmp(key, int_fields[i].key, klen) != 0)
            continue;
        char *field = (char *)c + int_fields[i].offset;
        if (int_fields[i].size == sizeof(long))
            *(long *)(void *)field = n;
        else
            *(int *)(void *)field = (int)n;
    }
}

int
muc_config_parse(const char *text, struct muc_room_config *c)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *sp = memchr(line, ' ', len);
        if (sp != NULL) {
            size_t klen = (size_t)(sp - line);
            char *val = unescape(sp + 1, len - klen - 1);
            set_field(c, line, klen, val);
            free(val);
        }
        line = nl ? nl + 1 : NULL;
    }
    if ((unsigned)c->allowpm > MUC_PM_NONE)
        c->allowpm = MUC_PM_NONE;
    return 0;
}

/* --- the owner's form ------------------------------------------------------
 */

static void
add_roles(xd_elem *x, const char *var, const char *label, unsigned set)
{
    xd_elem *f = xd_form_add_field(x, var, "list-multi", label, NULL);

    for (int r = MUC_ROLE_MODERATOR; r >= MUC_ROLE_VISITOR; r--) {
        xd_form_field_add_option(f, role_names[r], role_names[r]);
        if (set & MUC_ROLE_BIT(r))
            xd_form_field_add_value(f, role_names[r]);
    }
}

struct aff_list {
    xd_elem *field;
    enum muc_affiliation aff;
};

static void
add_aff_jid(const char *jid, void *value, void *arg)
{
    const struct muc_affiliation_entry *e = value;
    struct aff_list *l = arg;

    if (e->aff == l->aff)
        xd_form_field_add_value(l->field, jid);
}

void
muc_config_form(const struct muc_room *room, xd_elem *parent)
{
    const struct muc_room_config *c = &room->cfg;
    xd_elem *x = xd_form_add(parent, "form", "Configuration of the room",
                             "Complete this form to configure the room.");

    xd_form_add_form_type(x, "http://jabber.org/protocol/muc#roomconfig");
    xd_form_add_field(x, "muc#roomconfig_roomname", "text-single", "Room name",
                      c->name ? c->name : "");
    xd_form_add_field(x, "muc#roomconfig_roomdesc", "text-single",
                      "Description", c->desc ? c->desc : "");
    xd_form_add_field(x, "muc#roomconfig_lang", "text-single",
                      "Language of discussion", c->lang ? c->lang : "");
    xd_form_add_bool(x, "muc#roomconfig_persistentroom",
                     "Persistent (kept when the last occupant leaves)",
                     c->persistent);
    xd_form_add_bool(x, "muc#roomconfig_publicroom",
                     "Public (listed in the room directory)", c->public_);
    xd_form_add_bool(x, "muc#roomconfig_membersonly", "Members only",
                     c->members_only);
    xd_form_add_bool(x, "muc#roomconfig_passwordprotectedroom",
                     "Password required to enter", c->password_protected);
    xd_form_add_field(x, "muc#roomconfig_roomsecret", "text-private",
                      "Password", c->password ? c->password : "");
    xd_form_add_bool(x, "muc#roomconfig_moderatedroom",
                     "Moderated (only participants may speak)", c->moderated);
    xd_elem *f = xd_form_add_field(x, "muc#roomconfig_whois", "list-single",
                                   "Who may discover real JIDs",
                                   c->semianon ? "moderators" : "anyone");
    xd_form_field_add_option(f, "Moderators only", "moderators");
    xd_form_field_add_option(f, "Anyone", "anyone");
    f = xd_form_add_int(x, "muc#roomconfig_maxusers", "list-single",
                        "Maximum number of occupants", c->max_users);
    static const int sizes[] = { 10, 20, 30, 50, 100, 200, 500, 1000 };
    for (size_t i = 0; i < XD_NELEM(sizes); i++)
        if ((unsigned long long)sizes[i] <= room->svc->conf.max_occupants)
            xd_form_field_add_int_option(f, sizes[i]);
    xd_form_add_int(x, "muc#maxhistoryfetch", "text-single",
                    "Messages of history sent on entry", c->max_history);
    xd_form_add_bool(x, "muc#roomconfig_changesubject",
                     "Participants may change the subject", c->change_subject);
    xd_form_add_bool(x, "muc#roomconfig_allowinvites",
                     "Participants may invite others", c->allow_invites);
    f = xd_form_add_field(x, "muc#roomconfig_allowpm", "list-single",
                          "Who may send private messages",
                          pm_names[c->allowpm]);
    for (size_t i = 0; i < XD_NELEM(pm_names); i++)
        xd_form_field_add_option(f, pm_names[i], pm_names[i]);
    xd_form_add_bool(x, "muc#roomconfig_allowvoicerequests",
                     "Visitors may ask for voice", c->voice_requests);
    xd_form_add_bool(x, "muc#roomconfig_canchangenick",
                     "Occupants may change their nickname",
                     c->allow_nick_change);
    add_roles(x, "muc#roomconfig_presencebroadcast",
              "Roles whose presence is broadcast", c->presence_broadcast);
    add_roles(x, "muc#roomconfig_getmemberlist",
              "Roles that may retrieve the member list", c->getmemberlist);
    xd_form_add_bool(x, "muc#roomconfig_enablearchiving",
                     "Archive messages (XEP-0313)", c->archive);
    xd_form_add_bool(x, "muc#roomconfig_enablelogging",
                     "Public logging (same as archiving)", c->archive);
    struct aff_list l = {
        xd_form_add_field(x, "muc#roomconfig_roomadmins", "jid-multi",
                          "Room admins", NULL),
        MUC_AFF_ADMIN,
    };
    xd_map_each(room->affiliations, add_aff_jid, &l);
    l.field = xd_form_add_field(x, "muc#roomconfig_roomowners", "jid-multi",
                                "Room owners", NULL);
    l.aff = MUC_AFF_OWNER;
    xd_map_each(room->affiliations, add_aff_jid, &l);
}

static int
role_set(const xd_elem *x, const char *var, unsigned *out)
{
    xd_elem *f = xd_form_field(x, var);
    unsigned set = 0;

    if (f == NULL)
        return 0;
    for (xd_elem *v = xd_form_first_value(f); v; v = xd_form_next_value(v)) {
        const char *t = xd_elem_text(v);
        int found = 0;
        for (int r = MUC_ROLE_VISITOR; r <= MUC_ROLE_MODERATOR; r++)
            if (t && strcmp(t, role_names[r]) == 0) {
                set |= MUC_ROLE_BIT(r);
                found = 1;
            }
        if (!found && t && strcmp(t, "none") != 0)
            return XD_EINVAL;
    }
    *out = set;
    return 0;
}

static int
get_bool(const xd_elem *x, const char *var, int *out)
{
    int rc = xd_form_bool(x, var, out);
    return rc == XD_ENOTFOUND ? 0 : rc;
}

static void
get_str(const xd_elem *x, const char *var, char **out)
{
    const char *v = xd_form_value(x, var);

    if (v == NULL)
        return;
    free(*out);
    *out = *v ? xd_xstrdup(v) : NULL;
}

int
muc_config_apply_form(const struct muc_service *svc, const xd_elem *x,
                      struct muc_room_config *c, const char **why)
{
    unsigned long n;
    const char *v;
    int rc = 0;

    *why = NULL;
    get_str(x, "muc#roomconfig_roomname", &c->name);
    get_str(x, "muc#roomconfig_roomdesc", &c->desc);
    get_str(x, "muc#roomconfig_lang", &c->lang);
    get_str(x, "muc#roomconfig_roomsecret", &c->password);
    rc |= get_bool(x, "muc#roomconfig_persistentroom", &c->persistent);
    rc |= get_bool(x, "muc#roomconfig_publicroom", &c->public_);
    rc |= get_bool(x, "muc#roomconfig_membersonly", &c->members_only);
    rc |= get_bool(x, "muc#roomconfig_passwordprotectedroom",
                   &c->password_protected);
    rc |= get_bool(x, "muc#roomconfig_moderatedroom", &c->moderated);
    rc |= get_bool(x, "muc#roomconfig_changesubject", &c->change_subject);
    rc |= get_bool(x, "muc#roomconfig_allowinvites", &c->allow_invites);
    rc |= get_bool(x, "muc#roomconfig_allowvoicerequests", &c->voice_requests);
    rc |= get_bool(x, "muc#roomconfig_canchangenick", &c->allow_nick_change);
    rc |= get_bool(x, "muc#roomconfig_enablelogging", &c->archive);
    rc |= get_bool(x, "muc#roomconfig_enablearchiving", &c->archive);
    if (rc != 0) {
        *why = "a boolean field has a value that is not one";
        return XD_EINVAL;
    }
    if ((v = xd_form_value(x, "muc#roomconfig_whois")) != NULL) {
        if (strcmp(v, "moderators") == 0)
            c->semianon = 1;
        else if (strcmp(v, "anyone") == 0)
            c->semianon = 0;
        else {
            *why = "muc#roomconfig_whois: moderators or anyone";
            return XD_EINVAL;
        }
    }
    if ((v = xd_form_value(x, "muc#roomconfig_allowpm")) != NULL) {
        size_t i;
        for (i = 0; i < XD_NELEM(pm_names); i++)
            if (strcmp(v, pm_names[i]) == 0)
                break;
        if (i == XD_NELEM(pm_names)) {
            *why = "muc#roomconfig_allowpm: anyone, participants, "
                   "moderators or none";
            return XD_EINVAL;
        }
        c->allowpm = (enum muc_allowpm)i;
    }
    /* maxusers: a number up to the service's cap; 0, "" or "none" mean
     * the cap itself. */
    v = xd_form_value(x, "muc#roomconfig_maxusers");
    if (v != NULL) {
        rc = xd_form_uint(x, "muc#roomconfig_maxusers", svc->conf.max_occupants,
                          &n);
        if (rc == 0 && n > 0)
            c->max_users = (long)n;
        else if ((rc == 0 && n == 0) || *v == '\0' || strcmp(v, "none") == 0)
            c->max_users = (long)svc->conf.max_occupants;
        else {
            *why = "muc#roomconfig_maxusers: a number no greater than the "
                   "service's limit";
            return XD_EINVAL;
        }
    }
    rc = xd_form_uint(x, "muc#maxhistoryfetch", 1000000, &n);
    if (rc == 0)
        c->max_history =
            n > svc->conf.history_max ? (long)svc->conf.history_max : (long)n;
    else if (rc == XD_EINVAL) {
        *why = "muc#maxhistoryfetch: a number";
        return XD_EINVAL;
    }
    if (role_set(x, "muc#roomconfig_presencebroadcast",
                 &c->presence_broadcast) != 0 ||
        role_set(x, "muc#roomconfig_getmemberlist", &c->getmemberlist) != 0) {
        *why = "a role list names something that is not a role";
        return XD_EINVAL;
    }
    if (c->password_protected && c->password == NULL) {
        *why = "a password-protected room needs a password";
        return XD_EINVAL;
    }
    if (!c->password_protected) {
        free(c->password);
        c->password = NULL;
    }
    return 0;
}

/* --- disco#info ------------------------------------------------------------
 */

void
muc_config_features(const struct muc_room *room, xd_elem *query)
{
    const struct muc_room_config *c = &room->cfg;
    const char *f[] = {
        c->persistent ? "muc_persistent" : "muc_temporary",
        c->public_ ? "muc_public" : "muc_hidden",
        c->members_only ? "muc_membersonly" : "muc_open",
        c->moderated ? "muc_moderated" : "muc_unmoderated",
        c->password_protected ? "muc_passwordprotected" : "muc_unsecured",
        c->semianon ? "muc_semianonymous" : "muc_nonanonymous",
    };
    for (size_t i = 0; i < XD_NELEM(f); i++)
        xd_elem_set_attr(xd_elem_add_child(query, "feature", NULL), "var",
                         f[i]);
}

void
muc_config_roominfo(const struct muc_room *room, xd_elem *query)
{
    const struct muc_room_config *c = &room->cfg;
    xd_elem *x = xd_form_add(query, "result", NULL, NULL);

    xd_form_add_form_type(x, "http://jabber.org/protocol/muc#roominfo");
    if (c->desc)
        xd_form_add_field(x, "muc#roominfo_description", NULL, "Description",
                          c->desc);
    xd_form_add_int(x, "muc#roominfo_occupants", NULL, "Number of occupants",
                    (long long)room->noccupants);
    xd_form_add_field(x, "muc#roominfo_subject", NULL, "Subject",
                      room->subject ? room->subject : "");
    xd_form_add_bool(x, "muc#roominfo_subjectmod",
                     "Participants may change the subject", c->change_subject);
    if (c->lang)
        xd_form_add_field(x, "muc#roominfo_lang", NULL, "Language", c->lang);
    xd_form_add_int(x, "muc#roomconfig_maxusers", NULL, "Maximum occupants",
                    c->max_users);
    xd_form_add_field(x, "muc#roomconfig_allowpm", NULL, NULL,
                      pm_names[c->allowpm]);
    xd_form_add_field(x, "muc#roomconfig_whois", NULL, NULL,
                      c->semianon ? "moderators" : "anyone");
    if (c->name)
        xd_form_add_field(x, "muc#roomconfig_roomname", NULL, "Name", c->name);
}
