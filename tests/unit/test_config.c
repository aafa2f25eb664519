/*
 * Unit tests for config.c: binding sections to structs with defaults,
 * [global] fallback, bounds, booleans, and errors with file:line.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmppd/config.h>
#include <xmppd/log.h>

struct conf {
    char *name;
    unsigned long long port;
    int flag;
    char *log_level;
};

static const xd_config_key keys[] = {
    XD_CFG_STRING("name", struct conf, name, "default-name", "a name"),
    XD_CFG_UINT("port", struct conf, port, 5347, 1, 65535, "a port"),
    XD_CFG_BOOL("flag", struct conf, flag, 1, "a flag"),
    XD_CFG_STRING("log_level", struct conf, log_level, "info", "level"),
    XD_CFG_END,
};

static const struct {
    const char *ini;
    int rc;
    const char *name;
    unsigned long long port;
    int flag;
    const char *log_level;
    const char *message; /* expected in the log, with the line */
} cases[] = {
    { "", 0, "default-name", 5347, 1, "info", NULL },
    { "[prog]\nname = x\nport = 1\nflag = no\n", 0, "x", 1, 0, "info", NULL },
    { "[global]\nlog_level = debug\nport = 9\nother = 1\n[prog]\nport = 8\n", 0,
      "default-name", 8, 1, "debug", NULL },
    { "[prog]\nname = \"quoted value\"\nflag = on\n", 0, "quoted value", 5347,
      1, "info", NULL },
    { "[prog]\nflag = yes ; a comment\n", 0, "default-name", 5347, 1, "info",
      NULL },
    { "[prog]\n\nbogus = 1\n", XD_EINVAL, NULL, 0, 0, NULL,
      "t.ini:3: unknown key 'bogus' in [prog]" },
    { "[prog]\nport = 70000\n", XD_EINVAL, NULL, 0, 0, NULL,
      "t.ini:2: [prog] port: '70000' is not a number from 1 to 65535" },
    { "[prog]\nport = -1\n", XD_EINVAL, NULL, 0, 0, NULL, "t.ini:2" },
    { "[prog]\nport = 12abc\n", XD_EINVAL, NULL, 0, 0, NULL, "t.ini:2" },
    { "[prog]\nflag = maybe\n", XD_EINVAL, NULL, 0, 0, NULL,
      "t.ini:2: [prog] flag: 'maybe' is not true or false" },
};

/* Runs fn with stderr captured into buf. */
static int
captured(char *buf, size_t size, int (*fn)(const char *, const char *),
         const char *ini)
{
    int fds[2], saved = dup(2);

    if (pipe(fds) != 0)
        return -99;
    dup2(fds[1], 2);
    int rc = fn(ini, NULL);
    dup2(saved, 2);
    close(fds[1]);
    close(saved);
    ssize_t n = read(fds[0], buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    return rc;
}

static struct conf bound;

static void
collect(const char *section, const char *rest, void *arg)
{
    (void)section;
    strcat(arg, rest);
    strcat(arg, ",");
}

static int
load_and_bind(const char *ini, const char *unused)
{
    xd_config *cfg = NULL;
    (void)unused;
    int rc = xd_config_load_string(ini, "t.ini", &cfg);
    if (rc != 0)
        return rc;
    memset(&bound, 0, sizeof(bound));
    rc = xd_config_bind(cfg, "prog", keys, &bound);
    xd_config_free(cfg);
    return rc;
}

int
main(void)
{
    int passed = 0, failed = 0;
    char log[2048];

    for (size_t i = 0; i < XD_NELEM(cases); i++) {
        int rc = captured(log, sizeof(log), load_and_bind, cases[i].ini);
        int ok = rc == cases[i].rc;
        if (ok && rc == 0)
            ok = strcmp(bound.name, cases[i].name) == 0 &&
                 bound.port == cases[i].port && bound.flag == cases[i].flag &&
                 strcmp(bound.log_level, cases[i].log_level) == 0;
        if (ok && cases[i].message)
            ok = strstr(log, cases[i].message) != NULL;
        if (ok) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL case %zu: rc %d, log: %s\n", i, rc, log);
        }
        xd_config_unbind(keys, &bound);
    }

    /* Duplicates and syntax errors are refused at load. */
    xd_config *cfg = NULL;
    int rc = xd_config_load_string("[a]\nk = 1\nk = 2\n", "t.ini", &cfg);
    if (rc == XD_EINVAL && cfg == NULL)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL duplicate key accepted\n");
    rc = xd_config_load_string("[a\nk = 1\n", "t.ini", &cfg);
    if (rc == XD_EINVAL)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL syntax error accepted\n");

    /* Sections in file order, by prefix. */
    xd_config_load_string("[component a.x]\nsecret=1\n[echo]\n"
                          "[component b.x]\nsecret=2\n",
                          "t.ini", &cfg);
    char order[64] = "";
    xd_config_each_section(cfg, "component ", collect, order);
    if (strcmp(order, "a.x,b.x,") == 0 && xd_config_has_section(cfg, "echo") &&
        strcmp(xd_config_get(cfg, "component b.x", "secret"), "2") == 0)
        passed++;
    else
        failed++, fprintf(stderr, "FAIL sections: %s\n", order);
    xd_config_free(cfg);

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
