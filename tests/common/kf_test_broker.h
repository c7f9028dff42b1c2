/* Test fixture for C tests: `kinfer broker` as a subprocess (KINFER_BIN),
 * its bootstrap address read from the first line of its stdout.
 *
 *   kf_test_broker_t b;
 *   const char *args[] = {"--topic", "jobs:4", NULL};
 *   if (kf_test_broker_start(&b, args) != 0) return 1;
 *   ... use b.bootstrap ...
 *   int rc = kf_test_broker_stop(&b);   // SIGTERM; the broker's exit status
 *
 * Header-only (static functions) so any test can include it without build
 * changes. One thread; test code only. */
#ifndef KF_TEST_BROKER_H
#define KF_TEST_BROKER_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct kf_test_broker {
    pid_t pid;
    int out_fd;
    char bootstrap[1024];
} kf_test_broker_t;

/* Starts `$KINFER_BIN broker ARGS...` (args NULL-terminated, may be NULL)
 * and waits up to 20 s for its bootstrap line. 0 on success, -1 with a
 * message on stderr. */
static inline int kf_test_broker_start(kf_test_broker_t *b, const char *const *args) {
    memset(b, 0, sizeof(*b));
    b->pid = -1;
    b->out_fd = -1;
    const char *bin = getenv("KINFER_BIN");
    if (!bin) {
        fprintf(stderr, "kf_test_broker: KINFER_BIN is not set\n");
        return -1;
    }
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = (char *)"broker";
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("kf_test_broker: pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("kf_test_broker: fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* a test that dies without _stop must not leave the broker behind */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[1]);
    b->pid = pid;
    b->out_fd = fds[0];
    size_t len = 0;
    while (len + 1 < sizeof(b->bootstrap)) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, 20000);
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t got = r > 0 ? read(fds[0], b->bootstrap + len, 1) : 0;
        if (got <= 0) {
            fprintf(stderr, "kf_test_broker: no bootstrap line from %s broker\n", bin);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(fds[0]);
            b->pid = -1;
            return -1;
        }
        if (b->bootstrap[len] == '\n')
            break;
        len++;
    }
    b->bootstrap[len] = '\0';
    return 0;
}

/* SIGTERMs the broker and returns its exit status (-1 if it did not exit
 * normally or was not running). */
static inline int kf_test_broker_stop(kf_test_broker_t *b) {
    if (b->pid <= 0)
        return -1;
    kill(b->pid, SIGTERM);
    int status = 0;
    pid_t r;
    do {
        r = waitpid(b->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    close(b->out_fd);
    b->pid = -1;
    return (r > 0 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
}

#endif
