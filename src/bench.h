/* `kinfer bench` parts: each prints JSON lines on stdout. argv[0] is the
 * part's name ("engine", "gemm", "pipeline"). Return the process exit status. */
#ifndef KF_BENCH_H
#define KF_BENCH_H

int kf_bench_engine(int argc, char **argv);
int kf_bench_gemm(int argc, char **argv);
int kf_bench_pipeline(int argc, char **argv);

#endif
