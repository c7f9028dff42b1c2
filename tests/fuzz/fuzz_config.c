/* Fuzz target for untrusted config text: the properties-file parser (with
 * the key table's validation), the KINFER_* environment mapping, -X/--set
 * pairs, and the CLI tensor spec parser. The first byte picks the parser;
 * the rest is its input. Anything may fail, nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kf_cli_util.h"
#include "kf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* stops at an embedded NUL, as a C string would */
    char err[512];
    kf_config_t *cfg = kf_config_new();
    switch (data[0] % 4) {
    case 0: kf_config_load_string(cfg, text, "fuzz.properties", err, sizeof(err)); break;
    case 1: { /* lines as environment entries */
        char *envp[64];
        size_t n = 0;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 63;
             l = strtok_r(NULL, "\n", &save))
            envp[n++] = l;
        envp[n] = NULL;
        kf_config_load_env(cfg, envp, err, sizeof(err));
        break;
    }
    case 2:
        kf_config_set_pair(cfg, text, text[0] & 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err));
        break;
    default: {
        kf_tensor_spec_t spec;
        kf_tensor_spec_parse(text, &spec, err, sizeof(err));
        break;
    }
    }
    /* read everything back through the getters */
    for (size_t i = 0; i < kf_config_model_count(cfg); i++) {
        char key[300];
        snprintf(key, sizeof(key), "model.%s.max_batch", kf_config_model_name(cfg, i));
        (void)kf_config_get_int(cfg, key, 0);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kf_config_apply_kafka(cfg, conf, err, sizeof(err));
    rd_kafka_conf_destroy(conf);
    kf_config_free(cfg);
    free(text);
    return 0;
}
