/*
 * Unit tests for config.c: binding sections to structs with defaults,
 * [global] fallback, bounds, booleans, and errors with file:line; the
 * XD_CFG_FIELD_* entries named after their field; what xd_config_main does
 * for a program: --help with every key, its default and doc line, --version,
 * the default file named after the program, and errors labelled with the
 * program's name.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xmppd/config.h>
#include <xmppd/log.h>
#include <xmppd/version.h>

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

/* A second table, as a component has beside the library's. */
struct own {
    unsigned long long max_rooms;
    char *motd;
};

static const xd_config_key own_keys[] = {
    XD_CFG_FIELD_UINT(struct own, max_rooms, 100, 1, 1000, "rooms held"),
    XD_CFG_FIELD_STRING(struct own, motd, NULL, "message of the day"),
    XD_CFG_END,
};

static const xd_config_section sections[] = {
    { "prog", "the test program", keys, own_keys },
    { NULL, NULL, NULL, NULL },
};

static const xd_program prog = { "xmppd-test", "9.8.7", NULL, sections };

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

/* Runs xd_config_main(argv) in a child with its stdout and stderr in buf;
 * returns the child's exit status (-1 if it returned a configuration). */
static int
run_main(char *const argv[], char *buf, size_t size)
{
    int fds[2], argc = 0, status = 0;

    while (argv[argc] != NULL)
        argc++;
    fflush(NULL);
    if (pipe(fds) != 0)
        return -99;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        xd_config *cfg = xd_config_main(argc, (char **)argv, &prog, NULL);
        const char *version = NULL, *name = xd_config_program(cfg, &version);
        printf("program %s %s\n", name ? name : "-", version ? version : "-");
        xd_config_free(cfg);
        fflush(NULL);
        _exit(255);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(fds[0], buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status)
                                                           : -1;
}

/* The program's side: --help, --version, the default file, the labels. */
static int
program_cases(void)
{
    static char out[16384];
    char dir[] = "/tmp/xd-test-config-XXXXXX", cwd[4096];
    int failed = 0;

    /* Each key of both tables, with its default and its doc line. */
    char *help[] = { "xmppd-test", "--help", NULL };
    int rc = run_main(help, out, sizeof(out));
    static const char *const want[] = {
        "usage: xmppd-test",
        "[prog]  the test program",
        "  name = default-name\n      a name\n",
        "  port = 5347  (1 to 65535)\n      a port\n",
        "  flag = true\n      a flag\n",
        "  max_rooms = 100  (1 to 1000)\n      rooms held\n",
        "  motd = (unset)\n      message of the day\n",
        "xmppd-test.ini",
        "[global]",
        "  log_level = info\n      error, warn, info or debug\n",
    };
    for (size_t i = 0; i < XD_NELEM(want); i++)
        if (rc != 0 || strstr(out, want[i]) == NULL) {
            failed++;
            fprintf(stderr, "FAIL --help (rc %d) lacks '%s':\n%s\n", rc,
                    want[i], out);
        }
    char *version[] = { "xmppd-test", "-V", NULL };
    rc = run_main(version, out, sizeof(out));
    if (rc != 0 ||
        strcmp(out, "xmppd-test 9.8.7 (libxmppd " XD_VERSION ")\n") != 0 ||
        strcmp(xd_version(), XD_VERSION) != 0)
        failed++, fprintf(stderr, "FAIL --version (rc %d): %s\n", rc, out);
    char *extra[] = { "xmppd-test", "stray", NULL };
    rc = run_main(extra, out, sizeof(out));
    if (rc != 2 ||
        strstr(out, "xmppd-test: unexpected argument 'stray'") == NULL)
        failed++, fprintf(stderr, "FAIL stray argument (rc %d): %s\n", rc, out);

    /* The default file: $XMPPD_CONFIG, else NAME.ini here, else xmppd.ini;
     * a bad file is reported under the program's name, with its line. */
    if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(dir) == NULL ||
        chdir(dir) != 0)
        return failed + 1;
    unsetenv("XMPPD_CONFIG");
    char *path = xd_config_default_path("xmppd-test");
    if (strcmp(path, "xmppd.ini") != 0)
        failed++, fprintf(stderr, "FAIL default without a file: %s\n", path);
    free(path);
    FILE *f = fopen("xmppd-test.ini", "w");
    fputs("[prog]\nport = 1\nbogus = 2\n", f);
    fclose(f);
    path = xd_config_default_path("xmppd-test");
    if (strcmp(path, "xmppd-test.ini") != 0)
        failed++, fprintf(stderr, "FAIL default NAME.ini: %s\n", path);
    free(path);
    char *plain[] = { "xmppd-test", NULL };
    rc = run_main(plain, out, sizeof(out));
    /* The configuration knows its program (a component answers XEP-0092
     * with it). */
    if (rc != -1 || strstr(out, "program xmppd-test 9.8.7\n") == NULL)
        failed++, fprintf(stderr,
                          "FAIL xmppd-test.ini not loaded (rc %d): "
                          "%s\n",
                          rc, out);
    f = fopen("xmppd-test.ini", "w");
    fputs("[prog\n", f);
    fclose(f);
    rc = run_main(plain, out, sizeof(out));
    /* The log line: a 29-character timestamp (log.c), then the name. */
    const char *who = strstr(out, " xmppd-test[");
    if (rc != 1 || who == NULL || who - out != 29 ||
        strstr(out, "xmppd-test.ini:1: syntax error") == NULL ||
        strstr(out, "xmppd-test: cannot load the configuration "
                    "xmppd-test.ini") == NULL)
        failed++, fprintf(stderr, "FAIL bad file (rc %d): %s\n", rc, out);
    setenv("XMPPD_CONFIG", "other.ini", 1);
    path = xd_config_default_path("xmppd-test");
    if (strcmp(path, "other.ini") != 0)
        failed++, fprintf(stderr, "FAIL $XMPPD_CONFIG: %s\n", path);
    free(path);
    unsetenv("XMPPD_CONFIG");
    unlink("xmppd-test.ini");
    if (chdir(cwd) != 0 || rmdir(dir) != 0)
        failed++;

    /* XD_CFG_FIELD_* name the key after the field. */
    if (strcmp(own_keys[0].name, "max_rooms") != 0 ||
        own_keys[0].offset != offsetof(struct own, max_rooms) ||
        strcmp(own_keys[1].name, "motd") != 0)
        failed++, fprintf(stderr, "FAIL XD_CFG_FIELD_* names\n");
    return failed;
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

    int pf = program_cases();
    failed += pf;
    passed += pf == 0;

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
