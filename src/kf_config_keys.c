/* The table of known configuration keys (see kf_config.h). To add a key, add
 * a row: name, type, default (text or NULL), choices (enums), min, max, help.
 * Keep rows grouped by the module that reads them. kafka.* keys are not
 * listed: they all pass to librdkafka. */
#include <stdint.h>
#include <string.h>

#include "kf_config.h"

#define I64MAX INT64_MAX

static const kf_config_key_t keys[] = {
    /* Kafka wiring */
    {"bootstrap", KF_CFG_STRING, NULL, NULL, 0, 0,
     "Kafka bootstrap servers (host:port[,...]); sets kafka.bootstrap.servers"},
    {"group", KF_CFG_STRING, "kinfer", NULL, 0, 0, "consumer group id"},
    {"input.topics", KF_CFG_LIST, "kinfer.jobs", NULL, 0, 0,
     "comma-separated topics to read jobs from"},
    {"output.topic", KF_CFG_STRING, "kinfer.results", NULL, 0, 0,
     "topic results are written to (a job's reply_topic overrides it)"},
    {"dlq.topic", KF_CFG_STRING, "kinfer.dlq", NULL, 0, 0,
     "dead-letter topic for undecodable or rejected jobs"},
    {"processing.guarantee", KF_CFG_ENUM, "at_least_once", "at_least_once|exactly_once", 0, 0,
     "delivery semantics (exactly_once uses a transactional producer)"},
    {"transactional.id", KF_CFG_STRING, NULL, NULL, 0, 0,
     "exactly_once: the producer's transactional.id (default kinfer-<group>-<worker.id>; "
     "keep it stable across restarts so a new instance fences the old one)"},
    {"inflight.high", KF_CFG_INT, "4096", NULL, 1, I64MAX,
     "pause consuming when this many jobs are in flight"},
    {"inflight.low", KF_CFG_INT, "1024", NULL, 0, I64MAX,
     "resume consuming when in-flight jobs fall to this many"},
    {"worker.id", KF_CFG_STRING, NULL, NULL, 0, 0,
     "worker instance id written into results (default host:pid)"},

    /* Wire format */
    {"codec", KF_CFG_ENUM, "raw", "raw|confluent|auto", 0, 0,
     "job/result framing: raw Avro, Confluent (magic + schema id), auto (detect on input)"},
    {"schema.request_id", KF_CFG_INT, "1", NULL, 0, INT32_MAX,
     "Confluent schema id of inference_request"},
    {"schema.result_id", KF_CFG_INT, "2", NULL, 0, INT32_MAX,
     "Confluent schema id of inference_result"},

    /* Batching (defaults for every model) */
    {"max_batch", KF_CFG_INT, "64", NULL, 1, 1 << 20, "largest engine batch in rows"},
    {"max_queue_delay_ms", KF_CFG_INT, "5", NULL, 0, 60000,
     "longest a job waits for its batch to fill"},

    /* Engine */
    {"threads", KF_CFG_INT, "0", NULL, 0, 1024, "engine CPU threads (0 = one per core)"},
    {"device", KF_CFG_ENUM, "auto", "auto|cpu|cuda|cuda:N", 0, 0,
     "engine device (auto = CUDA when a GPU is present; cuda:N = GPU N)"},
    {"memory.budget", KF_CFG_SIZE, "0", NULL, 0, I64MAX,
     "bytes of activation memory per batch (k/m/g suffix; 0 = derive from the device)"},
    {"memory.device_percent", KF_CFG_INT, "80", NULL, 1, 100,
     "share of the GPU's free memory a model's plan may size its batch from (percent)"},
    {"precision", KF_CFG_ENUM, "fp32", "fp32|tf32|fp16|bf16", 0, 0,
     "Gemm/MatMul/Conv compute precision (tf32/fp16/bf16: cuda only; the cpu refuses them)"},

    /* Artifacts */
    {"cache.dir", KF_CFG_STRING, ".kinfer-cache", NULL, 0, 0, "model artifact cache directory"},
    {"cache.offline", KF_CFG_BOOL, "true", NULL, 0, 0,
     "start from cached artifacts (and say so) when the store is unreachable"},
    {"s3.endpoint", KF_CFG_STRING, NULL, NULL, 0, 0,
     "S3 endpoint URL for s3:// sources, e.g. http://minio:9000 (default: AWS)"},
    {"s3.region", KF_CFG_STRING, NULL, NULL, 0, 0,
     "S3 signing region (default: AWS_REGION or us-east-1)"},
    {"s3.addressing", KF_CFG_ENUM, "auto", "auto|path|virtual", 0, 0,
     "S3 URL style (auto = path style with an endpoint, virtual-hosted without)"},
    {"s3.access_key_id", KF_CFG_STRING, NULL, NULL, 0, 0,
     "S3 access key (default: AWS_ACCESS_KEY_ID)"},
    {"s3.secret_access_key", KF_CFG_STRING, NULL, NULL, 0, 0,
     "S3 secret key (default: AWS_SECRET_ACCESS_KEY; never logged)"},
    {"s3.session_token", KF_CFG_STRING, NULL, NULL, 0, 0,
     "S3 session token (default: AWS_SESSION_TOKEN)"},
    {"fetch.timeout_ms", KF_CFG_INT, "0", NULL, 0, 86400000,
     "limit for one artifact download attempt (0 = none)"},
    {"fetch.connect_timeout_ms", KF_CFG_INT, "5000", NULL, 1, 600000, "artifact connect timeout"},
    {"fetch.stall_timeout_ms", KF_CFG_INT, "30000", NULL, 0, 3600000,
     "abort a download attempt that receives nothing this long (0 = never)"},
    {"fetch.retries", KF_CFG_INT, "4", NULL, 0, 100,
     "download retries on 5xx/429/connection errors (backoff with jitter)"},
    {"fetch.backoff_ms", KF_CFG_INT, "200", NULL, 1, 600000,
     "first retry delay (doubles per retry)"},
    {"fetch.backoff_max_ms", KF_CFG_INT, "5000", NULL, 1, 3600000, "largest retry delay"},
    {"fetch.ca_file", KF_CFG_STRING, NULL, NULL, 0, 0,
     "PEM CA bundle for https artifact sources (default: the system store)"},
    {"fetch.max_bytes", KF_CFG_SIZE, "4g", NULL, 0, I64MAX,
     "largest artifact accepted (k/m/g suffix; 0 = no cap)"},

    /* Observability */
    {"metrics.port", KF_CFG_INT, "0", NULL, 0, 65535,
     "HTTP port for /metrics, /healthz, /readyz (0 = off; 9464 in docker/)"},
    {"metrics.bind", KF_CFG_STRING, "0.0.0.0", NULL, 0, 0,
     "numeric IPv4/IPv6 address the metrics HTTP server listens on"},
    {"metrics.stats_interval_ms", KF_CFG_INT, "5000", NULL, 0, 3600000,
     "librdkafka statistics interval feeding kinfer_consumer_lag (0 = no lag metric)"},
    {"log.level", KF_CFG_ENUM, "info", "debug|info|warn|error|off", 0, 0, "log level"},
    {"log.format", KF_CFG_ENUM, "text", "text|json", 0, 0, "log line format"},

    /* Per model: model.<name>.<field> */
    {"model.*.source", KF_CFG_STRING, NULL, NULL, 0, 0,
     "artifact base URL (https://, http://, s3://bucket/prefix, file://)"},
    {"model.*.max_batch", KF_CFG_INT, NULL, NULL, 1, 1 << 20,
     "largest batch for this model (default: max_batch)"},
    {"model.*.max_queue_delay_ms", KF_CFG_INT, NULL, NULL, 0, 60000,
     "batch fill deadline for this model (default: max_queue_delay_ms)"},
    {"model.*.preferred_batch", KF_CFG_INT, NULL, NULL, 1, 1 << 20,
     "dispatch early once this many rows are queued"},
    {"model.*.poll_interval_ms", KF_CFG_INT, "30000", NULL, 0, 86400000,
     "how often LATEST is polled for a new version (0 = never)"},
    {"model.*.keep_versions", KF_CFG_INT, "2", NULL, 1, 64,
     "loaded versions kept for jobs that pin one"},
};

size_t kf_config_key_count(void) {
    return sizeof(keys) / sizeof(keys[0]);
}

const kf_config_key_t *kf_config_key_at(size_t i) {
    return i < kf_config_key_count() ? &keys[i] : NULL;
}
