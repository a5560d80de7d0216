/*
 * pause: the pod sandbox process for localcluster's real node.
 *
 * It holds the pod's namespaces open and does nothing else: it sleeps until
 * SIGTERM or SIGINT (then exits 0) and, running as PID 1 of the pod, reaps any
 * child that gets re-parented to it.  Built with `gcc -static` so the image
 * holds this one binary and nothing else.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "localcluster-pause 3.10"

static volatile sig_atomic_t stop_signal = 0;

static void on_stop(int sig) { stop_signal = sig; }

static void on_child(int sig) {
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

static int install(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = (sig == SIGCHLD) ? SA_NOCLDSTOP | SA_RESTART : 0;
    return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        puts(VERSION);
        return 0;
    }
    if (getpid() != 1) {
        fprintf(stderr, "pause: warning: not running as PID 1\n");
    }
    if (install(SIGINT, on_stop) < 0 || install(SIGTERM, on_stop) < 0 ||
        install(SIGCHLD, on_child) < 0) {
        perror("pause: sigaction");
        return 1;
    }
    /* Block the signals we wait for and let sigsuspend() unblock them
     * atomically, so a signal that arrives between the check and the wait
     * cannot be missed. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &block, &waitmask) < 0) {
        perror("pause: sigprocmask");
        return 1;
    }
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGCHLD);
    while (!stop_signal) {
        sigsuspend(&waitmask);
    }
    fprintf(stderr, "pause: shutting down, got signal %d\n", (int)stop_signal);
    return 0;
}
