#ifndef MEMORYPLANE_CFORWARDER_H
#define MEMORYPLANE_CFORWARDER_H

/// A cluster endpoint's byte forwarder: listens on 127.0.0.1:`port` and joins each client to
/// the first backend in `backends_path` that accepts a connection (primaries first, from a
/// rotating position, then replicas), copying bytes both ways until either side closes.
///
/// Serves until the process ends; returns only when it cannot listen (the negated errno).
/// `max_connections` caps clients forwarded at once: past it a client is told Redis'
/// "max number of clients reached" and closed.
int mp_forward_serve(int port, const char *backends_path, int max_connections);

#endif
