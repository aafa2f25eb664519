/*
 * config.h: the one INI format every xmppd program reads (libinih).
 *
 * A file holds [global] and one section per program or domain. Each program
 * describes its keys in one table (name, type, default, bounds, doc) and binds
 * a section of the file to a struct with it: a key absent from the section
 * comes from [global] if the table allows it there, else from the default.
 * Unknown keys and bad values are refused at load with file:line. A program
 * starts with xd_config_main, which also gives it --help (every key of its
 * tables, default and doc line) and --version.
 */
#ifndef XMPPD_CONFIG_H
#define XMPPD_CONFIG_H

#include <stddef.h>
#include <xmppd/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xd_config xd_config;

typedef enum xd_config_type {
    XD_CFG_T_END = 0,
    XD_CFG_T_STRING, /* char * in the struct, malloc()ed; NULL default ok */
    XD_CFG_T_UINT,   /* unsigned long long in the struct, within [min,max] */
    XD_CFG_T_BOOL,   /* int in the struct: true/false/yes/no/on/off/1/0 */
} xd_config_type;

typedef struct xd_config_key {
    const char *name; /* lowercase snake_case, equal to the field name */
    xd_config_type type;
    size_t offset;                        /* offsetof(struct, field) */
    const char *def_string;               /* STRING default (may be NULL) */
    unsigned long long def_num, min, max; /* UINT/BOOL default and bounds */
    const char *doc;                      /* one line for docs and --help */
} xd_config_key;

#define XD_CFG_STRING(name, type, field, def, doc)                             \
    {                                                                          \
        name, XD_CFG_T_STRING, offsetof(type, field), def, 0, 0, 0, doc        \
    }
#define XD_CFG_UINT(name, type, field, def, min, max, doc)                     \
    {                                                                          \
        name, XD_CFG_T_UINT, offsetof(type, field), NULL, def, min, max, doc   \
    }
#define XD_CFG_BOOL(name, type, field, def, doc)                               \
    {                                                                          \
        name, XD_CFG_T_BOOL, offsetof(type, field), NULL, def, 0, 1, doc       \
    }
#define XD_CFG_END                                                             \
    {                                                                          \
        NULL, XD_CFG_T_END, 0, NULL, 0, 0, 0, NULL                             \
    }

/*
 * The same entries with the key named after the struct field, so the two
 * cannot differ: XD_CFG_FIELD_UINT(struct muc_conf, max_rooms, 10000, 1,
 * 1000000, "rooms held") is the key "max_rooms".
 */
#define XD_CFG_FIELD_STRING(type, field, def, doc)                             \
    XD_CFG_STRING(#field, type, field, def, doc)
#define XD_CFG_FIELD_UINT(type, field, def, min, max, doc)                     \
    XD_CFG_UINT(#field, type, field, def, min, max, doc)
#define XD_CFG_FIELD_BOOL(type, field, def, doc)                               \
    XD_CFG_BOOL(#field, type, field, def, doc)

/* One section a program reads, as --help describes it. */
typedef struct xd_config_section {
    const char *name; /* as shown: "echo", "muc NAME", "component DOMAIN" */
    const char *doc;  /* one line: what the section is for (may be NULL) */
    const xd_config_key *keys; /* the section's keys (e.g. xd_component_keys) */
    const xd_config_key *more; /* a second table in it (the program's own
                                * beside the library's), or NULL */
} xd_config_section;

/* What a program tells xd_config_main about itself. */
typedef struct xd_program {
    const char *name;    /* "xmppd-echo": messages, log lines, <name>.ini */
    const char *version; /* printed by --version; NULL: the library's */
    const char *args;    /* what follows the options in the usage line, or
                          * NULL when the program takes no arguments */
    const xd_config_section *sections; /* ended by { NULL }; may be NULL */
} xd_program;

/* Reads and parses an INI file (no key checks yet: see xd_config_bind).
 * 0 and *out owned by the caller; XD_EIO (unreadable) or XD_EINVAL (syntax,
 * logged with file:line). */
int xd_config_load(const char *path, xd_config **out);
/* Parses INI text held in memory (tests); `name` appears in messages. */
int xd_config_load_string(const char *text, const char *name, xd_config **out);
/*
 * For main(): reads the options, loads the configuration and returns it (the
 * caller owns it). Options: -c/--config FILE; -h/--help prints the usage and
 * every key of prog->sections with its default and doc line, then exits 0;
 * -V/--version prints "NAME VERSION (libxmppd VERSION)" and exits 0. Without
 * -c the file is $XMPPD_CONFIG, else NAME.ini when the working directory has
 * one, else xmppd.ini (one file for the whole host). Sets the log's process
 * name to prog->name first, so that every message is labelled with it. Bad
 * arguments print the usage and exit 2; a file that cannot be loaded is
 * logged (with file:line) and exits 1. The arguments after the options start
 * at argv[*optind_out]; when optind_out or prog->args is NULL, arguments are
 * refused (usage, exit 2).
 */
xd_config *xd_config_main(int argc, char *argv[], const xd_program *prog,
                          int *optind_out);
/* xd_config_main for a program without a key table or version of its own:
 * `program` is its name. */
xd_config *xd_config_load_argv(int argc, char *argv[], const char *program,
                               int *optind_out);
/* The file xd_config_main reads without -c (see there); the caller frees. */
char *xd_config_default_path(const char *program);
/* Writes what --help prints to `file` (a FILE *). */
void xd_config_write_help(const xd_program *prog, void *file);
/* The library's version ("0.1.0"), as built; XD_VERSION in <xmppd/version.h>
 * is the version of the headers a program was compiled with. */
const char *xd_version(void);
void xd_config_free(xd_config *cfg); /* NULL is a no-op */
/* The program the configuration is for: its name (NULL when unknown) and,
 * in *version (may be NULL), its version (NULL when it has none of its
 * own). xd_config_main sets both from prog, so that a component made from
 * cfg answers XEP-0092 with them. Borrowed; live with cfg. */
const char *xd_config_program(const xd_config *cfg, const char **version);
/* Sets them (copied; NULL clears), for configurations made otherwise. */
void xd_config_set_program(xd_config *cfg, const char *name,
                           const char *version);
/* The path the configuration was read from (or the name given to
 * xd_config_load_string); borrowed, lives with cfg. */
const char *xd_config_name(const xd_config *cfg);

/* Raw value of a key, or NULL; borrowed, lives with cfg. */
const char *xd_config_get(const xd_config *cfg, const char *section,
                          const char *key);
/* 1 if the file has that section. */
int xd_config_has_section(const xd_config *cfg, const char *section);
/* Calls fn for each section whose name starts with prefix ("" for all), in
 * file order; `rest` is the name after the prefix. */
void xd_config_each_section(const xd_config *cfg, const char *prefix,
                            void (*fn)(const char *section, const char *rest,
                                       void *arg),
                            void *arg);

/*
 * Fills the struct at dst from `section` with the key table: defaults first,
 * then [global] values for keys the table has, then the section's values.
 * Every key in `section` must be in the table (else XD_EINVAL, logged with
 * file:line); [global] keys the table lacks are ignored (other programs'
 * keys live there). Values out of bounds are XD_EINVAL, logged. dst's string
 * fields are replaced (old values freed, so zero the struct first); on
 * XD_EINVAL they are all freed and NULL.
 */
int xd_config_bind(const xd_config *cfg, const char *section,
                   const xd_config_key *keys, void *dst);
/* Like xd_config_bind, for a section that two tables share (a component's
 * own keys beside the framework's): keys of `others` are not unknown. */
int xd_config_bind_with(const xd_config *cfg, const char *section,
                        const xd_config_key *keys, void *dst,
                        const xd_config_key *others);
/* Frees the string fields a bind set; the struct itself is the caller's. */
void xd_config_unbind(const xd_config_key *keys, void *dst);
/* Writes the table as commented INI (every key with its default) to out. */
void xd_config_write_defaults(const xd_config_key *keys, const char *section,
                              void *file /* FILE * */);

#ifdef __cplusplus
}
#endif
#endif
