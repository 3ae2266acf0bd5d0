/*
 * mock_cluster: librdkafka's mock cluster (public rdkafka_mock.h API) as a
 * standalone reference broker for tests/interop/throughput.sh, so the same
 * client load can be timed against kwire-broker and against a broker that
 * someone else wrote.
 *
 *   mock_cluster [-n BROKERS] [-p PARTITIONS] [-t TOPIC]... [-T SECONDS]
 *
 * Prints "mock_cluster: listening on BOOTSTRAPS" on stdout once ready (the
 * brokers listen on 127.0.0.1, kernel-chosen ports), and exits 0 on SIGTERM
 * or SIGINT, or after SECONDS (default 600).
 *
 * Build: cc -O2 -o mock_cluster mock_cluster.c $(pkg-config --cflags --libs rdkafka)
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    int brokers = 1, partitions = 1, opt;
    long seconds = 600;
    const char *topics[32];
    int ntopics = 0;

    while ((opt = getopt(argc, argv, "n:p:t:T:")) != -1) {
        switch (opt) {
        case 'n': brokers = atoi(optarg); break;
        case 'p': partitions = atoi(optarg); break;
        case 'T': seconds = atol(optarg); break;
        case 't':
            if (ntopics < 32)
                topics[ntopics++] = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s [-n BROKERS] [-p PARTITIONS] [-t TOPIC]... [-T SECONDS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (brokers < 1 || partitions < 1 || seconds < 1) {
        fprintf(stderr, "mock_cluster: bad arguments\n");
        return 2;
    }

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The mock cluster needs a handle to run in; it is not used otherwise. */
    if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mock_cluster: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock_cluster: rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(mc, topics[i], partitions, brokers < 3 ? brokers : 3);
        if (e) {
            fprintf(stderr, "mock_cluster: create %s: %s\n", topics[i], rd_kafka_err2str(e));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    printf("mock_cluster: listening on %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    struct timespec tick = {0, 100 * 1000 * 1000};
    for (long i = 0; i < seconds * 10 && !stopping; i++)
        nanosleep(&tick, NULL);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
