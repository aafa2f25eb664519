/*
 * Unit tests for component_main.c: xd_component_main reads -c FILE, binds
 * the section's library keys and the program's own, names the program for
 * XEP-0092; --help describes the section (both tables) when the program
 * lists no sections; an incomplete section exits 1. The exiting cases run
 * in a child process.
 */
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include <xmppd/component.h>

struct bot_conf {
    char *greeting;
};

static const xd_config_key bot_keys[] = {
    XD_CFG_FIELD_STRING(struct bot_conf, greeting, "hi", "what it says"),
    XD_CFG_END,
};
static const xd_program bot_program = { "xmppd-bot", "2.5", NULL, NULL };

static char dir[] = "/tmp/test_component_main_XXXXXX";

static char *
write_file(const char *name, const char *text)
{
    char *path = xd_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        exit(1);
    return path;
}

/* Runs xd_component_main in a child with argv; its exit status, and its
 * stdout in out (len bytes). */
static int
child(char **argv, int argc, char *out, size_t len)
{
    int fds[2];
    size_t n = 0;
    ssize_t r;

    if (pipe(fds) != 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        struct bot_conf conf = { 0 };
        xd_component *c;
        dup2(fds[1], 1);
        xd_component_main(argc, argv, &bot_program, "bot", bot_keys, &conf, &c);
        _exit(42);
    }
    close(fds[1]);
    while (n + 1 < len && (r = read(fds[0], out + n, len - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    xd_component_stop(arg);
}

int
main(void)
{
    static char out[65536];
    struct bot_conf conf = { 0 };
    xd_component *c = NULL;
    const char *version = NULL;
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    char *good = write_file("good.ini", "[bot]\ndomain = bot.example\n"
                                        "secret = s\ngreeting = hello\n");
    char *bad = write_file("bad.ini", "[bot]\ndomain = bot.example\n");
    char *argv[] = { "xmppd-bot", "-c", good, NULL };

    xd_config *cfg =
        xd_component_main(3, argv, &bot_program, "bot", bot_keys, &conf, &c);
    CHECK(c != NULL && strcmp(xd_component_domain(c), "bot.example") == 0,
          "the component is made from [bot]");
    CHECK(conf.greeting && strcmp(conf.greeting, "hello") == 0,
          "the program's own key is bound");
    CHECK(strcmp(xd_config_program(cfg, &version), "xmppd-bot") == 0 &&
              version && strcmp(version, "2.5") == 0,
          "the configuration names the program and its version");
    xd_component_free(c);
    xd_config_unbind(bot_keys, &conf);
    xd_config_free(cfg);

    /* xd_component_run_main: runs until a stop, frees it all (ASan sees
     * the bound greeting and the rest freed), exit status 0. */
    char *quiet = write_file("quiet.ini", "[bot]\ndomain = bot.example\n"
                                          "secret = s\ngreeting = hi\n"
                                          "router_port = 1\n");
    char *run[] = { "xmppd-bot", "-c", quiet, NULL };
    memset(&conf, 0, sizeof(conf));
    cfg = xd_component_main(3, run, &bot_program, "bot", bot_keys, &conf, &c);
    struct timeval tv = { 0, 50000 };
    event_base_once(xd_component_base(c), -1, EV_TIMEOUT, stop_cb, c, &tv);
    rc = xd_component_run_main(c, cfg, bot_keys, &conf);
    CHECK(rc == 0, "xd_component_run_main after a stop: 0 (%d)", rc);

    char *help[] = { "xmppd-bot", "--help", NULL };
    rc = child(help, 2, out, sizeof(out));
    CHECK(rc == 0 && strstr(out, "[bot]") && strstr(out, "greeting") &&
              strstr(out, "router_port"),
          "--help describes [bot] with both tables (exit %d): %s", rc, out);
    char *incomplete[] = { "xmppd-bot", "-c", bad, NULL };
    rc = child(incomplete, 3, out, sizeof(out));
    CHECK(rc == 1, "a section without secret exits 1 (exit %d)", rc);

    unlink(good);
    unlink(bad);
    unlink(quiet);
    free(quiet);
    rmdir(dir);
    free(good);
    free(bad);
    return check_report();
}
