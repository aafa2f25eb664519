/*
 * config.h: the one INI format every xmppd program reads (libinih).
 *
 * A file holds [global] and one section per program or domain. Each program
 * describes its keys in one table (name, type, default, bounds, doc) and binds
 * a section of the file to a struct with it: a key absent from the section
 * comes from [global] if the table allows it there, else from the default.
 * Unknown keys and bad values are refused at load with file:line.
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

/* Reads and parses an INI file (no key checks yet: see xd_config_bind).
 * 0 and *out owned by the caller; XD_EIO (unreadable) or XD_EINVAL (syntax,
 * logged with file:line). */
int xd_config_load(const char *path, xd_config **out);
/* Parses INI text held in memory (tests); `name` appears in messages. */
int xd_config_load_string(const char *text, const char *name, xd_config **out);
/*
 * For main(): takes `-c FILE` (or `--config FILE`) from argv, loads it and
 * returns it; the caller owns it. Prints usage and exits 2 on bad arguments,
 * logs and exits 1 when the file is bad. `program` names the default file,
 * $XMPPD_CONFIG, then "xmppd.ini". Remaining args are left in argv from
 * index *optind_out (may be NULL).
 */
xd_config *xd_config_load_argv(int argc, char *argv[], const char *program,
                               int *optind_out);
void xd_config_free(xd_config *cfg); /* NULL is a no-op */
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
