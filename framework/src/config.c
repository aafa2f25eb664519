/*
 * config.c: INI files through libinih, key tables bound to structs.
 *
 * Debian's libinih does not report line numbers to the handler, so the
 * file is fed to ini_parse_stream through a reader that counts lines: when
 * the handler runs, the line just read is the key's.
 */
#define XD_LOG_AREA "config"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include <xmppd/config.h>
#include <xmppd/log.h>
#include <xmppd/version.h>

struct entry {
    char *section, *key, *value;
    int line;
};

struct xd_config {
    char *name;
    char *program, *program_version; /* xd_config_set_program */
    struct entry *entries;
    size_t n, cap;
    char **sections; /* in file order */
    size_t nsections;
};

static void add_section(xd_config *cfg, const char *section);

/* inih only reports sections that hold keys; an empty one still exists. */
static void
note_section(xd_config *cfg, const char *line)
{
    const char *p = line + strspn(line, " \t");
    const char *end = strchr(p, ']');

    if (*p != '[' || end == NULL)
        return;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char *name = xd_xstrndup(p, (size_t)(end - p));
    add_section(cfg, name);
    free(name);
}

struct reader {
    const char *text, *pos;
    int line;
    xd_config *cfg;
    int rc;
};

static char *
read_line(char *buf, int size, void *arg)
{
    struct reader *rd = arg;
    const char *nl;
    size_t len;

    if (*rd->pos == '\0')
        return NULL;
    nl = strchr(rd->pos, '\n');
    len = nl ? (size_t)(nl - rd->pos) + 1 : strlen(rd->pos);
    if (len > (size_t)size - 1)
        len = (size_t)size - 1;
    memcpy(buf, rd->pos, len);
    buf[len] = '\0';
    rd->pos += len;
    rd->line++;
    note_section(rd->cfg, buf);
    return buf;
}

static void
add_section(xd_config *cfg, const char *section)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (strcmp(cfg->sections[i], section) == 0)
            return;
    cfg->sections =
        xd_xrealloc(cfg->sections, (cfg->nsections + 1) * sizeof(char *));
    cfg->sections[cfg->nsections++] = xd_xstrdup(section);
}

static struct entry *
find(const xd_config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->entries[i].section, section) == 0 &&
            strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

static int
on_value(void *arg, const char *section, const char *key, const char *value)
{
    struct reader *rd = arg;
    xd_config *cfg = rd->cfg;
    size_t len = strlen(value);

    if (find(cfg, section, key) != NULL) {
        xd_log_warnx("%s:%d: '%s' is set twice in [%s]", cfg->name, rd->line,
                     key, section);
        rd->rc = XD_EINVAL;
        return 0;
    }
    add_section(cfg, section);
    if (cfg->n == cfg->cap) {
        cfg->cap = cfg->cap ? cfg->cap * 2 : 32;
        cfg->entries =
            xd_xrealloc(cfg->entries, cfg->cap * sizeof(*cfg->entries));
    }
    struct entry *e = &cfg->entries[cfg->n++];
    /* Optional double quotes around a value are not part of it. */
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"')
        e->value = xd_xstrndup(value + 1, len - 2);
    else
        e->value = xd_xstrdup(value);
    e->section = xd_xstrdup(section);
    e->key = xd_xstrdup(key);
    e->line = rd->line;
    return 1;
}

int
xd_config_load_string(const char *text, const char *name, xd_config **out)
{
    xd_config *cfg = xd_xcalloc(1, sizeof(*cfg));
    struct reader rd = { text, text, 0, cfg, 0 };

    cfg->name = xd_xstrdup(name);
    int rc = ini_parse_stream(read_line, &rd, on_value, &rd);
    if (rc != 0 || rd.rc != 0) {
        if (rc > 0 && rd.rc == 0)
            xd_log_warnx("%s:%d: syntax error", name, rc);
        xd_config_free(cfg);
        return XD_EINVAL;
    }
    *out = cfg;
    return 0;
}

int
xd_config_load(const char *path, xd_config **out)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t len = 0;

    if (f == NULL) {
        xd_log_warn("cannot read %s", path);
        return XD_EIO;
    }
    FILE *mem = open_memstream(&text, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, mem);
    int bad = ferror(f);
    fclose(f);
    fclose(mem);
    if (bad) {
        xd_log_warn("cannot read %s", path);
        free(text);
        return XD_EIO;
    }
    int rc = xd_config_load_string(text, path, out);
    free(text);
    return rc;
}

const char *
xd_version(void)
{
    return XD_VERSION;
}

char *
xd_config_default_path(const char *program)
{
    const char *env = getenv("XMPPD_CONFIG");

    if (env != NULL && *env != '\0')
        return xd_xstrdup(env);
    char *own = xd_xasprintf("%s.ini", program);
    if (access(own, F_OK) == 0)
        return own;
    free(own);
    return xd_xstrdup("xmppd.ini");
}

static void
write_key(FILE *f, const xd_config_key *k)
{
    switch (k->type) {
    case XD_CFG_T_STRING:
        if (k->def_string != NULL)
            fprintf(f, "  %s = %s\n", k->name, k->def_string);
        else
            fprintf(f, "  %s = (unset)\n", k->name);
        break;
    case XD_CFG_T_UINT:
        fprintf(f, "  %s = %llu  (%llu to %llu)\n", k->name, k->def_num, k->min,
                k->max);
        break;
    case XD_CFG_T_BOOL:
        fprintf(f, "  %s = %s\n", k->name, k->def_num ? "true" : "false");
        break;
    case XD_CFG_T_END:
        return;
    }
    fprintf(f, "      %s\n", k->doc ? k->doc : "");
}

/* The logger's [global] keys, which log.c reads (xd_log_init): here for
 * --help only, so their defaults must stay log.c's. */
struct log_keys_doc {
    char *log_level, *log_target;
};
static const xd_config_key log_keys[] = {
    XD_CFG_FIELD_STRING(struct log_keys_doc, log_level, "info",
                        "error, warn, info or debug"),
    XD_CFG_FIELD_STRING(struct log_keys_doc, log_target, "stderr",
                        "stderr or syslog"),
    XD_CFG_END,
};

static void
write_usage(const xd_program *prog, FILE *f)
{
    fprintf(f, "usage: %s [-c FILE]%s%s\n       %s --help | --version\n",
            prog->name, prog->args ? " " : "", prog->args ? prog->args : "",
            prog->name);
}

void
xd_config_write_help(const xd_program *prog, void *file)
{
    FILE *f = file;

    write_usage(prog, f);
    if (strcmp(prog->name, "xmppd") == 0)
        fprintf(f, "  -c, --config FILE  the configuration (default: "
                   "$XMPPD_CONFIG, else xmppd.ini)\n");
    else
        fprintf(f,
                "  -c, --config FILE  the configuration (default: "
                "$XMPPD_CONFIG, else %s.ini\n"
                "                     if there is one here, else xmppd.ini)\n",
                prog->name);
    fprintf(f, "  -h, --help         this text: the options and every key\n"
               "  -V, --version      the version\n");
    fprintf(f, "\nconfiguration keys (key = default, then what it does):\n");
    for (const xd_config_section *s = prog->sections; s && s->name != NULL;
         s++) {
        fprintf(f, "\n[%s]%s%s\n", s->name, s->doc ? "  " : "",
                s->doc ? s->doc : "");
        for (const xd_config_key *k = s->keys; k && k->name != NULL; k++)
            write_key(f, k);
        for (const xd_config_key *k = s->more; k && k->name != NULL; k++)
            write_key(f, k);
    }
    fprintf(f, "\n[global]  every program reads it; a key of a section "
               "above set here\n"
               "          is that key's value wherever the section does not "
               "set it\n");
    for (const xd_config_key *k = log_keys; k->name != NULL; k++)
        write_key(f, k);
}

xd_config *
xd_config_main(int argc, char *argv[], const xd_program *prog, int *optind_out)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    char *path = NULL;
    xd_config *cfg = NULL;
    int ch;

    /* Messages of the load come before main() calls xd_log_init. */
    xd_log_init(prog->name, NULL);
    /* '+': stop at the first non-option, so commands keep their own. */
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            free(path);
            path = xd_xstrdup(optarg);
            break;
        case 'h':
            xd_config_write_help(prog, stdout);
            exit(0);
        case 'V':
            printf("%s %s (libxmppd %s)\n", prog->name,
                   prog->version ? prog->version : xd_version(), xd_version());
            exit(0);
        default:
            write_usage(prog, stderr);
            exit(2);
        }
    }
    if (optind_out != NULL && prog->args != NULL) {
        *optind_out = optind;
    } else if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", prog->name,
                argv[optind]);
        write_usage(prog, stderr);
        exit(2);
    }
    if (path == NULL)
        path = xd_config_default_path(prog->name);
    if (xd_config_load(path, &cfg) != 0) {
        /* The cause is logged above, with the file and line. */
        fprintf(stderr, "%s: cannot load the configuration %s\n", prog->name,
                path);
        exit(1);
    }
    free(path);
    xd_config_set_program(cfg, prog->name, prog->version);
    return cfg;
}

xd_config *
xd_config_load_argv(int argc, char *argv[], const char *program,
                    int *optind_out)
{
    xd_program prog = { program, NULL, optind_out ? "[ARGS...]" : NULL, NULL };

    return xd_config_main(argc, argv, &prog, optind_out);
}

void
xd_config_free(xd_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    for (size_t i = 0; i < cfg->nsections; i++)
        free(cfg->sections[i]);
    free(cfg->sections);
    free(cfg->entries);
    free(cfg->name);
    free(cfg->program);
    free(cfg->program_version);
    free(cfg);
}

void
xd_config_set_program(xd_config *cfg, const char *name, const char *version)
{
    free(cfg->program);
    free(cfg->program_version);
    cfg->program = xd_xstrdup(name);
    cfg->program_version = xd_xstrdup(version);
}

const char *
xd_config_program(const xd_config *cfg, const char **version)
{
    if (version != NULL)
        *version = cfg->program_version;
    return cfg->program;
}

const char *
xd_config_get(const xd_config *cfg, const char *section, const char *key)
{
    struct entry *e = find(cfg, section, key);

    return e ? e->value : NULL;
}

int
xd_config_has_section(const xd_config *cfg, const char *section)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (strcmp(cfg->sections[i], section) == 0)
            return 1;
    return 0;
}

void
xd_config_each_section(const xd_config *cfg, const char *prefix,
                       void (*fn)(const char *section, const char *rest,
                                  void *arg),
                       void *arg)
{
    size_t plen = strlen(prefix);

    for (size_t i = 0; i < cfg->nsections; i++)
        if (strncmp(cfg->sections[i], prefix, plen) == 0)
            fn(cfg->sections[i], cfg->sections[i] + plen, arg);
}

/* --- binding --------------------------------------------------------- */

static int
parse_uint(const char *s, unsigned long long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return XD_EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno != 0 || *end != '\0' ? XD_EINVAL : 0;
}

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (size_t i = 0; i < XD_NELEM(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return XD_EINVAL;
}

static int
set_value(const xd_config_key *k, void *dst, const char *value,
          const char *where, const char *section)
{
    char *base = dst;

    switch (k->type) {
    case XD_CFG_T_STRING: {
        char **field = (char **)(base + k->offset);
        free(*field);
        *field = value ? xd_xstrdup(value) : NULL;
        return 0;
    }
    case XD_CFG_T_UINT: {
        unsigned long long v;
        if (parse_uint(value, &v) != 0 || v < k->min || v > k->max) {
            xd_log_warnx("%s: [%s] %s: '%s' is not a number from %llu to "
                         "%llu",
                         where, section, k->name, value, k->min, k->max);
            return XD_EINVAL;
        }
        *(unsigned long long *)(base + k->offset) = v;
        return 0;
    }
    case XD_CFG_T_BOOL: {
        int v;
        if (parse_bool(value, &v) != 0) {
            xd_log_warnx("%s: [%s] %s: '%s' is not true or false", where,
                         section, k->name, value);
            return XD_EINVAL;
        }
        *(int *)(base + k->offset) = v;
        return 0;
    }
    case XD_CFG_T_END:
        break;
    }
    return XD_EINVAL;
}

static const xd_config_key *
key_of(const xd_config_key *keys, const char *name)
{
    for (const xd_config_key *k = keys; k->name != NULL; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

int
xd_config_bind(const xd_config *cfg, const char *section,
               const xd_config_key *keys, void *dst)
{
    return xd_config_bind_with(cfg, section, keys, dst, NULL);
}

int
xd_config_bind_with(const xd_config *cfg, const char *section,
                    const xd_config_key *keys, void *dst,
                    const xd_config_key *others)
{
    char where[512];
    int rc = 0;

    for (const xd_config_key *k = keys; k->name != NULL; k++) {
        if (k->type == XD_CFG_T_STRING) {
            set_value(k, dst, k->def_string, cfg->name, section);
        } else if (k->type == XD_CFG_T_UINT) {
            *(unsigned long long *)((char *)dst + k->offset) = k->def_num;
        } else {
            *(int *)((char *)dst + k->offset) = (int)k->def_num;
        }
    }
    /* [global] first, then the section itself, which wins. */
    const char *order[2] = { "global", section };
    for (size_t s = 0; s < 2; s++) {
        if (s == 0 && strcmp(section, "global") == 0)
            continue;
        for (size_t i = 0; i < cfg->n; i++) {
            const struct entry *e = &cfg->entries[i];
            if (strcmp(e->section, order[s]) != 0)
                continue;
            const xd_config_key *k = key_of(keys, e->key);
            snprintf(where, sizeof(where), "%s:%d", cfg->name, e->line);
            if (k == NULL) {
                if (s == 1 && (others == NULL || !key_of(others, e->key))) {
                    xd_log_warnx("%s: unknown key '%s' in [%s]", where, e->key,
                                 section);
                    rc = XD_EINVAL;
                }
                continue;
            }
            if (set_value(k, dst, e->value, where, e->section) != 0)
                rc = XD_EINVAL;
        }
    }
    if (rc != 0)
        xd_config_unbind(keys, dst); /* nothing half-bound is left */
    return rc;
}

void
xd_config_unbind(const xd_config_key *keys, void *dst)
{
    for (const xd_config_key *k = keys; k->name != NULL; k++) {
        if (k->type != XD_CFG_T_STRING)
            continue;
        char **field = (char **)((char *)dst + k->offset);
        free(*field);
        *field = NULL;
    }
}

void
xd_config_write_defaults(const xd_config_key *keys, const char *section,
                         void *file)
{
    FILE *f = file;

    fprintf(f, "[%s]\n", section);
    for (const xd_config_key *k = keys; k->name != NULL; k++) {
        fprintf(f, "; %s\n", k->doc);
        switch (k->type) {
        case XD_CFG_T_STRING:
            fprintf(f, ";%s = %s\n", k->name,
                    k->def_string ? k->def_string : "");
            break;
        case XD_CFG_T_UINT:
            fprintf(f, ";%s = %llu\n", k->name, k->def_num);
            break;
        case XD_CFG_T_BOOL:
            fprintf(f, ";%s = %s\n", k->name, k->def_num ? "true" : "false");
            break;
        case XD_CFG_T_END:
            break;
        }
    }
}

const char *
xd_config_name(const xd_config *cfg)
{
    return cfg->name;
}
