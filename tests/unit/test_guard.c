/*
 * test_guard.c - failed logins per name and per address (src/server/guard.c):
 * the throttle's steps, the locks and their end (time or unlock), names that
 * do not exist counted alike, and a table that stays bounded under a spray
 * of names without forgetting a lock.
 */
#include "check.h"
#include "server/guard.h"

#include <arpa/inet.h>
#include <stdio.h>

static const int64_t S = 1000000000;

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static void throttle_then_lock(void)
{
    guard *g =
        guard_new(&(guard_config){.throttle_after = 3, .lock_after = 10, .lock_after_ip = 0, .lock_s = 900});
    uint32_t a = ip("10.0.0.1");
    int64_t want[] = {0, 0, 0, S / 10, S / 5, 2 * S / 5, 4 * S / 5, 8 * S / 5, 16 * S / 5, 32 * S / 5};
    for (int i = 0; i < 10; i++) {
        CHECK_EQ(guard_verdict(g, "alice", a, i * S), GUARD_OPEN);
        CHECK_EQ(guard_failed(g, "alice", a, i * S), want[i]);
    }
    CHECK_EQ(guard_failures(g, "alice"), 10);
    CHECK_EQ(guard_verdict(g, "alice", a, 11 * S), GUARD_USER_LOCKED);
    CHECK_EQ(guard_verdict(g, "bob", a, 11 * S), GUARD_OPEN); /* the name, not the address */
    guard_succeeded(g, "alice");                              /* a right password does not lift a lock */
    CHECK_EQ(guard_verdict(g, "alice", a, 12 * S), GUARD_USER_LOCKED);
    CHECK_EQ(guard_verdict(g, "alice", a, 9 * S + 901 * S), GUARD_OPEN); /* lock_s later */
    guard_free(g);
}

static void success_clears_the_count(void)
{
    guard *g = guard_new(&(guard_config){.throttle_after = 3, .lock_after = 10, .lock_s = 900});
    for (int i = 0; i < 9; i++)
        guard_failed(g, "carol", ip("10.0.0.2"), S);
    guard_succeeded(g, "carol");
    CHECK_EQ(guard_failures(g, "carol"), 0);
    CHECK_EQ(guard_failed(g, "carol", ip("10.0.0.2"), S), 0);
    CHECK_EQ(guard_verdict(g, "carol", ip("10.0.0.2"), S), GUARD_OPEN);
    guard_free(g);
}

static void address_lock_and_unlock(void)
{
    guard *g =
        guard_new(&(guard_config){.throttle_after = 100, .lock_after = 0, .lock_after_ip = 5, .lock_s = 0});
    uint32_t a = ip("192.0.2.7");
    char name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "u%d", i); /* a different name each time */
        CHECK_EQ(guard_verdict(g, name, a, S), GUARD_OPEN);
        guard_failed(g, name, a, S);
    }
    CHECK_EQ(guard_verdict(g, "anyone", a, 2 * S), GUARD_IP_LOCKED);
    CHECK_EQ(guard_verdict(g, "anyone", ip("192.0.2.8"), 2 * S), GUARD_OPEN);
    CHECK_EQ(guard_verdict(g, "anyone", a, 100000 * S), GUARD_IP_LOCKED); /* lock_s 0: until unlocked */
    CHECK_EQ(guard_unlock(g, "192.0.2.7"), 1);
    CHECK_EQ(guard_verdict(g, "anyone", a, 100000 * S), GUARD_OPEN);
    CHECK_EQ(guard_unlock(g, "never-seen"), 0);
    guard_free(g);
}

static void unknown_names_count_alike(void)
{
    /* guard knows nothing of which users exist: a lock says nothing either */
    guard *g = guard_new(&(guard_config){.throttle_after = 3, .lock_after = 3, .lock_s = 900});
    for (int i = 0; i < 3; i++)
        guard_failed(g, "no-such-user", ip("10.0.0.3"), S);
    CHECK_EQ(guard_verdict(g, "no-such-user", ip("10.0.0.4"), S), GUARD_USER_LOCKED);
    CHECK_EQ(guard_unlock(g, "no-such-user"), 1);
    CHECK_EQ(guard_verdict(g, "no-such-user", ip("10.0.0.4"), S), GUARD_OPEN);
    guard_free(g);
}

static void spray_keeps_locks(void)
{
    guard *g = guard_new(&(guard_config){.throttle_after = 3, .lock_after = 2, .lock_s = 900});
    guard_failed(g, "victim", ip("10.0.0.5"), S);
    guard_failed(g, "victim", ip("10.0.0.5"), S);
    char name[24];
    for (int i = 0; i < 200000; i++) { /* far more names than the table holds */
        snprintf(name, sizeof name, "spray%d", i);
        guard_failed(g, name, ip("10.0.0.6"), 2 * S);
    }
    CHECK_EQ(guard_verdict(g, "victim", ip("10.0.0.5"), 3 * S), GUARD_USER_LOCKED);
    guard_free(g);
}

int main(void)
{
    RUN(throttle_then_lock);
    RUN(success_clears_the_count);
    RUN(address_lock_and_unlock);
    RUN(unknown_names_count_alike);
    RUN(spray_keeps_locks);
    return check_failures != 0;
}
