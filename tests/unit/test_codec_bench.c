/* Decode throughput of a 3 KiB MNIST-like request (1x784 float32) with our
 * decoder vs Avro C's generic decoder, side by side in one run. Prints one
 * JSON line per decoder; asserts only that both decode the same values,
 * never timings. KF_CODEC_BENCH_SECONDS (default 0.2) sets the time per
 * decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "codec_avro_check.h"
#include "kf_codec.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_json(const char *decoder, long n, double secs, size_t msg_bytes) {
    printf("{\"bench\":\"codec_decode_request\",\"decoder\":\"%s\",\"msg_bytes\":%zu,"
           "\"records\":%ld,\"seconds\":%.4f,\"records_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
           decoder, msg_bytes, n, secs, (double)n / secs,
           (double)n * (double)msg_bytes / secs / 1e6);
    fflush(stdout);
}

static void test_decode_mnist_request(void **state) {
    (void)state;
    double budget = 0.2;
    const char *env = getenv("KF_CODEC_BENCH_SECONDS");
    if (env && atof(env) > 0)
        budget = atof(env);
    static float px[784];
    for (int i = 0; i < 784; i++)
        px[i] = (float)(i % 255) / 255.0f;
    kf_tensor_view_t in = {.name = "pixels",
                           .dtype = KF_DTYPE_FLOAT32,
                           .rank = 2,
                           .shape = {1, 784},
                           .data = px,
                           .nbytes = sizeof(px)};
    kf_kv_t meta = {"trace", "0123456789abcdef"};
    kf_request_t req = {.id = "job-000001",
                        .model = "mnist",
                        .model_version = "1",
                        .inputs = &in,
                        .n_inputs = 1,
                        .metadata = &meta,
                        .n_metadata = 1};
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_OK);

    /* ours: full validating decode + free, per message */
    long n = 0;
    double t0 = now_s(), t1;
    do {
        for (int k = 0; k < 1000; k++, n++) {
            kf_request_t *q = NULL;
            if (kf_codec_decode_request(NULL, b.data, b.len, &q, &err) != KF_OK)
                fail_msg("decode: %s", err.msg);
            if (q->inputs[0].nbytes != sizeof(px))
                fail();
            kf_request_free(q);
        }
        t1 = now_s();
    } while (t1 - t0 < budget);
    print_json("kf_codec", n, t1 - t0, b.len);

    /* Avro C generic decoding into a reused value (its fastest path) */
    avro_kind_t k;
    assert_int_equal(avro_kind_open(&k, kf_codec_request_schema_json()), 0);
    avro_reader_t rd = avro_reader_memory((const char *)b.data, (int64_t)b.len);
    assert_non_null(rd);
    n = 0;
    t0 = now_s();
    do {
        for (int j = 0; j < 1000; j++, n++) {
            avro_value_reset(&k.value);
            avro_reader_memory_set_source(rd, (const char *)b.data, (int64_t)b.len);
            if (avro_value_read(rd, &k.value) != 0)
                fail_msg("avro: %s", avro_strerror());
        }
        t1 = now_s();
    } while (t1 - t0 < budget);
    print_json("avro_c_generic", n, t1 - t0, b.len);
    /* both saw the same tensor */
    avro_value_t arr, t, v;
    const void *bytes;
    size_t nb;
    assert_int_equal(av_field(&k.value, "inputs", &arr), 0);
    assert_int_equal(avro_value_get_by_index(&arr, 0, &t, NULL), 0);
    assert_int_equal(av_field(&t, "data", &v), 0);
    assert_int_equal(avro_value_get_bytes(&v, &bytes, &nb), 0);
    assert_int_equal(nb, sizeof(px));
    assert_memory_equal(bytes, px, nb);
    avro_reader_free(rd);
    avro_kind_close(&k);
    kf_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_mnist_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
