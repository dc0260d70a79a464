/*
 * The real node's pod sandbox ("pause") process: holds the pod's namespaces,
 * reaps zombies when it is the pod's init, exits on SIGINT/SIGTERM. Built
 * statically by test/cluster/image/build.sh, so the image needs no libc and
 * the test cluster needs no registry.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void pause_stop(int sig)
{
    (void)sig;
    _exit(0);
}

static void pause_reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void)
{
    struct sigaction stop = {.sa_handler = pause_stop};
    struct sigaction reap = {.sa_handler = pause_reap, .sa_flags = SA_NOCLDSTOP};

    if (getpid() != 1)
        fprintf(stderr, "pause: not the pod's init (pid %d)\n", (int)getpid());
    if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
        sigaction(SIGCHLD, &reap, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }
    for (;;)
        pause();
}
