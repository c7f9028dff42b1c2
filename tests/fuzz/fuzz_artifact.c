/* Fuzzes the artifact parsers that see bytes from object storage or
 * configuration: digest files (sha256sum format), version names from
 * LATEST, s3:// URL mapping (path and virtual-hosted) and repository URLs.
 * Invariants: parse results are 64 lowercase hex chars; mapped URLs start
 * with the endpoint and contain no raw space. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kf_artifact_repo.h"
#include "kf_artifact_s3.h"
#include "kf_artifact_sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char hex[KF_SHA256_HEX_LEN + 1];
    if (kf_sha256_parse_hex((const char *)data, size, hex) == KF_OK) {
        if (strlen(hex) != KF_SHA256_HEX_LEN)
            abort();
        for (size_t i = 0; i < KF_SHA256_HEX_LEN; i++)
            if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                abort();
    }
    char *s = malloc(size + 6);
    if (!s)
        return 0;
    memcpy(s, "s3://", 5);
    memcpy(s + 5, data, size);
    s[size + 5] = '\0';
    const char *text = s + 5;
    int valid = kf_repo_version_valid(text);
    if (valid && (strchr(text, '/') || !strcmp(text, "..")))
        abort();
    char *u = kf_repo_url("http://h/base", "m", valid ? text : "v1", "model.onnx");
    free(u);
    for (int style = 0; style < 2; style++) {
        kf_s3_params_t p = kf_s3_default_params();
        p.endpoint = style ? "http://127.0.0.1:9000" : "https://minio.example";
        p.path_style = style;
        p.region = "us-east-1";
        char *out = NULL, err[256];
        if (kf_s3_http_url(&p, s, &out, err, sizeof(err)) == KF_OK) {
            if (strncmp(out, style ? "http://127.0.0.1:9000/" : "https://", style ? 22 : 8) != 0)
                abort();
            if (strchr(out, ' '))
                abort();
            free(out);
        }
    }
    free(s);
    return 0;
}
