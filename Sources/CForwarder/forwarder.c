// The cluster endpoint's forwarder, in C because it is on every request's path: per request a
// pipeline-1 client costs it one recv and one send each way, with one epoll_wait serving every
// connection that became ready together. No copies beyond the kernel's, no allocation per
// request, no wake-up of another thread. (splice(2) would need a pipe per direction and two
// calls per hop: no fewer system calls for replies of a few bytes, which are most of them.)
//
// Threads: the main thread accepts and connects (a loopback connect is immediate, bounded by
// 300 ms when a backend's backlog is full); one worker thread moves bytes for every pair.
#define _GNU_SOURCE
#include "CForwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_SIZE (64 * 1024)
#define MAX_BACKENDS 64
#define CONNECT_TIMEOUT_MS 300

struct pair;

/// One connection of a pair and what is still to be written to it.
struct side {
    int fd;
    struct pair *pair;
    struct side *peer;
    /// Bytes read from the peer that this side's socket did not take yet (malloc'd on demand).
    char *pending;
    size_t pending_offset, pending_length;
    /// The peer sent EOF: once `pending` drains, this side's output is shut.
    int peer_finished;
    /// This side sent EOF (read returned 0).
    int finished;
    uint32_t events;
};

struct pair {
    struct side client, backend;
    int closed;
    /// Links the batch's closed pairs, or the arrivals not yet registered.
    struct pair *next_closed;
};

static int worker_epoll = -1;
static atomic_int open_pairs = 0;
static atomic_uint rotation = 0;
/// New pairs on their way from the acceptor to the worker, which alone touches pairs and epoll
/// registrations: a pair is never seen half-registered by a worker that might close it.
static pthread_mutex_t arrivals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pair *arrivals = NULL;
static int arrivals_signal = -1;

static void set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// The events a side waits for: readable while its peer has nothing pending from it, writable
/// while it has bytes pending.
static void update_interest(struct side *side) {
    uint32_t events = 0;
    if (!side->finished && side->peer->pending_length == 0) events |= EPOLLIN | EPOLLRDHUP;
    if (side->pending_length > 0) events |= EPOLLOUT;
    if (events == side->events) return;
    struct epoll_event event = {.events = events, .data.ptr = side};
    epoll_ctl(worker_epoll, EPOLL_CTL_MOD, side->fd, &event);
    side->events = events;
}

static void close_pair(struct pair *pair, struct pair **closed_list) {
    if (pair->closed) return;
    pair->closed = 1;
    close(pair->client.fd);
    close(pair->backend.fd);
    free(pair->client.pending);
    free(pair->backend.pending);
    atomic_fetch_sub(&open_pairs, 1);
    // Freed after the batch: another event of this batch may still name it.
    pair->next_closed = *closed_list;
    *closed_list = pair;
}

/// Writes what `side` has pending; returns -1 when the connection failed.
static int flush_pending(struct side *side) {
    while (side->pending_length > 0) {
        ssize_t written = send(side->fd, side->pending + side->pending_offset, side->pending_length, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return -1;
        }
        side->pending_offset += (size_t)written;
        side->pending_length -= (size_t)written;
    }
    if (side->peer_finished) shutdown(side->fd, SHUT_WR);
    return 0;
}

/// Reads once from `from` and writes it all to its peer, keeping what the peer does not take.
static int forward(struct side *from, char *buffer) {
    struct side *to = from->peer;
    ssize_t got = recv(from->fd, buffer, BUFFER_SIZE, 0);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -1;
    }
    if (got == 0) {
        from->finished = 1;
        to->peer_finished = 1;
        if (to->pending_length == 0) shutdown(to->fd, SHUT_WR);
        return from->peer_finished && from->pending_length == 0 ? -1 : 0;
    }
    size_t offset = 0;
    while (offset < (size_t)got) {
        ssize_t written = send(to->fd, buffer + offset, (size_t)got - offset, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            break;
        }
        offset += (size_t)written;
    }
    if (offset < (size_t)got) {
        if (to->pending == NULL && (to->pending = malloc(BUFFER_SIZE)) == NULL) return -1;
        memcpy(to->pending, buffer + offset, (size_t)got - offset);
        to->pending_offset = 0;
        to->pending_length = (size_t)got - offset;
    }
    return 0;
}

/// Registers the pairs the acceptor handed over since the last time.
static void register_arrivals(struct pair **closed) {
    uint64_t count;
    if (read(arrivals_signal, &count, sizeof count) < 0) { /* nothing new: a spurious wake-up */ }
    pthread_mutex_lock(&arrivals_lock);
    struct pair *pair = arrivals;
    arrivals = NULL;
    pthread_mutex_unlock(&arrivals_lock);
    while (pair) {
        struct pair *next = pair->next_closed;
        pair->next_closed = NULL;
        struct epoll_event client_event = {.events = pair->client.events, .data.ptr = &pair->client};
        struct epoll_event backend_event = {.events = pair->backend.events, .data.ptr = &pair->backend};
        if (epoll_ctl(worker_epoll, EPOLL_CTL_ADD, pair->client.fd, &client_event) < 0
            || epoll_ctl(worker_epoll, EPOLL_CTL_ADD, pair->backend.fd, &backend_event) < 0) {
            close_pair(pair, closed);
        }
        pair = next;
    }
}

static void *worker(void *unused) {
    (void)unused;
    static char buffer[BUFFER_SIZE];
    struct epoll_event events[256];
    for (;;) {
        int ready = epoll_wait(worker_epoll, events, 256, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        struct pair *closed = NULL;
        for (int index = 0; index < ready; index++) {
            struct side *side = events[index].data.ptr;
            if (side == NULL) {
                register_arrivals(&closed);
                continue;
            }
            struct pair *pair = side->pair;
            if (pair->closed) continue;
            uint32_t what = events[index].events;
            int failed = 0;
            if (what & EPOLLOUT) failed = flush_pending(side) < 0;
            if (!failed && (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !side->finished && side->peer->pending_length == 0) {
                failed = forward(side, buffer) < 0;
            }
            if (!failed && (what & EPOLLERR)) failed = 1;
            if (!failed && side->finished && side->peer->finished && side->pending_length == 0 && side->peer->pending_length == 0) failed = 1;
            if (failed) {
                close_pair(pair, &closed);
                continue;
            }
            update_interest(side);
            update_interest(side->peer);
        }
        while (closed) {
            struct pair *next = closed->next_closed;
            free(closed);
            closed = next;
        }
    }
}

struct backend {
    char host[64];
    int port;
};

/// Reads the backends file anew (membership changes apply to the next connection): primaries
/// and replicas, in file order. A line is `host:port [primary|replica]`.
static void read_backends(const char *path, struct backend *primaries, int *primary_count, struct backend *replicas, int *replica_count) {
    *primary_count = 0;
    *replica_count = 0;
    FILE *file = fopen(path, "r");
    if (!file) return;
    char line[256];
    while (fgets(line, sizeof line, file)) {
        char address[128] = {0}, role[32] = {0};
        if (sscanf(line, "%127s %31s", address, role) < 1) continue;
        char *colon = strrchr(address, ':');
        if (!colon) continue;
        *colon = 0;
        int port = atoi(colon + 1);
        if (port <= 0 || port > 65535 || strlen(address) >= sizeof primaries[0].host) continue;
        int replica = strcmp(role, "replica") == 0;
        struct backend *list = replica ? replicas : primaries;
        int *count = replica ? replica_count : primary_count;
        if (*count >= MAX_BACKENDS) continue;
        snprintf(list[*count].host, sizeof list[*count].host, "%s", address);
        list[*count].port = port;
        (*count)++;
    }
    fclose(file);
}

/// A connected socket to host:port, or -1; waits at most CONNECT_TIMEOUT_MS.
static int connect_backend(const struct backend *backend) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)backend->port)};
    if (inet_pton(AF_INET, backend->host, &address.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        struct pollfd waiting = {.fd = fd, .events = POLLOUT};
        int error = 0;
        socklen_t length = sizeof error;
        if (poll(&waiting, 1, CONNECT_TIMEOUT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0 || error != 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/// The first backend that accepts: primaries from a rotating position, then replicas likewise.
static int connect_any(const char *path) {
    struct backend primaries[MAX_BACKENDS], replicas[MAX_BACKENDS];
    int primary_count, replica_count;
    read_backends(path, primaries, &primary_count, replicas, &replica_count);
    unsigned start = atomic_fetch_add(&rotation, 1);
    for (int index = 0; index < primary_count; index++) {
        int fd = connect_backend(&primaries[(start + (unsigned)index) % (unsigned)primary_count]);
        if (fd >= 0) return fd;
    }
    for (int index = 0; index < replica_count; index++) {
        int fd = connect_backend(&replicas[(start + (unsigned)index) % (unsigned)replica_count]);
        if (fd >= 0) return fd;
    }
    return -1;
}

static void say(const char *message) {
    // Once a second at most: a flood of refusals must not become a flood of log lines.
    static time_t last = 0;
    time_t now = time(NULL);
    if (now == last) return;
    last = now;
    fprintf(stderr, "memoryplane endpoint: %s\n", message);
}

int mp_forward_serve(int port, const char *backends_path, int max_connections) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return -errno;
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 4096) < 0) {
        int error = errno;
        close(listener);
        return -error;
    }
    worker_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (worker_epoll < 0) return -errno;
    arrivals_signal = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (arrivals_signal < 0) return -errno;
    struct epoll_event signal_event = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(worker_epoll, EPOLL_CTL_ADD, arrivals_signal, &signal_event) < 0) return -errno;
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, NULL) != 0) return -EAGAIN;
    static const char refusal[] = "-ERR max number of clients reached\r\n";
    for (;;) {
        int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                say("out of descriptors; pausing accepts for 100 ms");
                usleep(100 * 1000);
            }
            continue;
        }
        if (atomic_fetch_add(&open_pairs, 1) >= max_connections) {
            atomic_fetch_sub(&open_pairs, 1);
            say("connection limit reached; refusing clients");
            send(client, refusal, sizeof refusal - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(client);
            continue;
        }
        int backend = connect_any(backends_path);
        if (backend < 0) {
            atomic_fetch_sub(&open_pairs, 1);
            say("no node of the cluster accepted a connection");
            close(client);
            continue;
        }
        struct pair *pair = calloc(1, sizeof *pair);
        if (!pair) {
            atomic_fetch_sub(&open_pairs, 1);
            close(client);
            close(backend);
            continue;
        }
        set_nonblocking(client);
        set_nodelay(client);
        set_nodelay(backend);
        pair->client = (struct side){.fd = client, .pair = pair, .peer = &pair->backend, .events = EPOLLIN | EPOLLRDHUP};
        pair->backend = (struct side){.fd = backend, .pair = pair, .peer = &pair->client, .events = EPOLLIN | EPOLLRDHUP};
        pthread_mutex_lock(&arrivals_lock);
        pair->next_closed = arrivals;
        arrivals = pair;
        pthread_mutex_unlock(&arrivals_lock);
        uint64_t one_more = 1;
        if (write(arrivals_signal, &one_more, sizeof one_more) < 0) { /* the counter is already non-zero */ }
    }
}
