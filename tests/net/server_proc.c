/* SPDX-License-Identifier: Apache-2.0 */
/* tests/net/server_proc.c — see server_proc.h. */
#define _GNU_SOURCE /* memmem */
#include "server_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

uint16_t ts_free_port(bool udp)
{
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

bool ts_file_has(const char *path, const char *what, int wait_ms)
{
    static char buf[65536];
    for (int i = 0; i <= wait_ms / 20; i++) {
        FILE *f = fopen(path, "rb");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (memmem(buf, n, what, strlen(what)))
            return true;
        if (i < wait_ms / 20)
            usleep(20000);
    }
    return false;
}

void ts_pid_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int st;
    for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
        usleep(10000);
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
}

int ts_proc_start(ts_proc *p, const char *const *argv, const char *log, const char *ready, int wait_ms)
{
    memset(p, 0, sizeof *p);
    p->in = -1;
    snprintf(p->log, sizeof p->log, "%s", log);
    int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int pp[2];
    if (pipe(pp)) {
        close(fd);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        close(pp[0]);
        close(pp[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the caller exits (or fails): the server goes too */
        dup2(pp[0], 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(pp[1]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    close(pp[0]);
    p->pid = pid;
    p->in = pp[1];
    for (int i = 0; i <= wait_ms / 20; i++) {
        if (ts_file_has(p->log, ready, 0))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) { /* exited: nothing to stop */
            p->pid = 0;
            break;
        }
        usleep(20000);
    }
    ts_proc_stop(p);
    return -1;
}

void ts_proc_stop(ts_proc *p)
{
    ts_pid_stop(p->pid);
    p->pid = 0;
    if (p->in >= 0)
        close(p->in);
    p->in = -1;
}
