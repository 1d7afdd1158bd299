/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/net/server_proc.h — a test or benchmark peer (OpenSSL's s_server, Mbed TLS's
 * ssl_server2, ...) as a child process on 127.0.0.1: a free loopback port, start with its
 * output in a log file and a readiness marker, stop by PID. Shared by tests/test_channel.c and
 * bench/channel.c; never part of libfs38.
 */
#ifndef FS38_TESTS_SERVER_PROC_H
#define FS38_TESTS_SERVER_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ts_proc {
    pid_t pid;     /* 0: not running */
    int in;        /* the child's stdin (a pipe): what s_server sends to its client */
    char log[192]; /* its stdout and stderr */
} ts_proc;

/* A port on 127.0.0.1 that was free a moment ago (TCP or UDP); 0 when none could be found. */
uint16_t ts_free_port(bool udp);

/* Whether the file contains `what` (its first 64 KiB), polling for up to wait_ms. */
bool ts_file_has(const char *path, const char *what, int wait_ms);

/* Start argv[0] (looked up in PATH) with argv (NULL-terminated); stdin is a pipe (p->in),
 * stdout and stderr go to the file log (truncated). The child gets SIGTERM when the caller
 * dies. Waits up to wait_ms for `ready` to appear in the log. 0 on success; -1 when the
 * process could not be started or did not get ready in time (it is then stopped, p->pid 0). */
int ts_proc_start(ts_proc *p, const char *const *argv, const char *log, const char *ready, int wait_ms);

/* SIGTERM, then SIGKILL after 1 s; reaps the child and closes p->in. Safe when not running. */
void ts_proc_stop(ts_proc *p);

/* Stop a process by PID only (TERM, KILL after 1 s, reaped). */
void ts_pid_stop(pid_t pid);

#endif
