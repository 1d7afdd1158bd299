/* cmds.h — the subcommands of the host tool `fs38`. Each returns the process exit code:
 * 0 success, 1 rejected (verification failed / malformed input), 2 usage or I/O error. */
#ifndef FS38_TOOLS_CMDS_H
#define FS38_TOOLS_CMDS_H

int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* Usage text of one subcommand (to stdout for --help, to stderr after a usage error). */
void usage_keygen(int to_stderr);
void usage_sign(int to_stderr);
void usage_verify(int to_stderr);
void usage_inspect(int to_stderr);

#endif
