/* The `kinfer` subcommands. Each lives in src/cli_<name>.c, parses its own
 * flags (and prints its own --help listing every flag), and returns the
 * process exit status: 0 success, 1 runtime failure, 2 usage error.
 * argv[0] is the subcommand name. Called from main() only. */
#ifndef KF_CLI_H
#define KF_CLI_H

int kf_cli_worker(int argc, char **argv);
int kf_cli_produce(int argc, char **argv);
int kf_cli_consume(int argc, char **argv);
int kf_cli_broker(int argc, char **argv);
int kf_cli_demo(int argc, char **argv);
int kf_cli_bench(int argc, char **argv);
int kf_cli_fetch(int argc, char **argv);
int kf_cli_predict(int argc, char **argv);
int kf_cli_version(int argc, char **argv);

#endif
