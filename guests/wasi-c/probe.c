/*
 * The C WASI probe: a command-line program built against wasi-libc that
 * the tests in crates/wasi and crates/cli run to check what a C guest sees
 * and can do. `build.sh` rebuilds wasm/probe-c.wasm, which is committed.
 *
 * Usage: probe-c MODE [ARGS...]
 *   hello ARGS...  print argv and the environment, one line to stderr
 *   exit N         exit(N)
 *   abort          abort() (a trap)
 *   cat            copy stdin to stdout
 *   fs DIR         stdio streams, directories, rename, unlink, links in DIR
 *   escape DIR     ways out of DIR (`..`, absolute paths, symlinks) fail
 *   clock          clock_gettime, clock_getres, nanosleep
 *   random         getentropy, arc4random
 *   calls DIR      fd_allocate, fd_advise, fd_sync, fd_datasync,
 *                  fd_renumber, {fd,path}_filestat_set_times, fdstat on stdio
 *   poll DIR       poll_oneoff with several clocks, and with descriptors
 *   echo FD        poll for and accept one connection on the listening
 *                  socket FD, read a line, send it back after "echo: "
 *
 * Each step prints `ok <step>` or `FAIL <step>: <reason>`; a mode that saw
 * a failure exits with 1, else it ends with `<mode> ok`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static int failures;

static void check(int good, const char *step) {
    if (good) {
        printf("ok %s\n", step);
    } else {
        printf("FAIL %s: %s\n", step, strerror(errno));
        failures++;
    }
}

/* A step that must fail: prints the errno name it failed with. */
static void refused(int result, const char *step) {
    if (result >= 0) {
        printf("FAIL %s: succeeded\n", step);
        failures++;
    } else {
        printf("refused %s: %s\n", step, strerror(errno));
    }
}

static int finish(const char *mode) {
    if (failures) {
        printf("%s: %d failed\n", mode, failures);
        return 1;
    }
    printf("%s ok\n", mode);
    return 0;
}

static char path_buf[4][512];

/* DIR/name, in one of four rotating buffers: good until the fourth call
   after; keep a copy for longer. */
static const char *at(const char *dir, const char *name) {
    static int next;
    char *p = path_buf[next++ % 4];
    snprintf(p, sizeof path_buf[0], "%s/%s", dir, name);
    return p;
}

static int hello(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 2; i < argc; i++) {
        printf("arg: %s\n", argv[i]);
    }
    for (char **e = environ; *e; e++) {
        printf("env: %s\n", *e);
    }
    const char *g = getenv("GREETING");
    printf("GREETING=%s\n", g ? g : "(unset)");
    fprintf(stderr, "to stderr\n");
    return 0;
}

static int cat(void) {
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    return ferror(stdin) ? 1 : 0;
}

static int fs(const char *dir) {
    char file[512];
    snprintf(file, sizeof file, "%s/c-file.txt", dir);
    FILE *f = fopen(file, "w");
    check(f != NULL, "fopen w");
    if (!f) return finish("fs");
    check(fwrite("hello, file\n", 1, 12, f) == 12, "fwrite");
    check(fclose(f) == 0, "fclose");

    f = fopen(file, "a");
    check(f != NULL, "fopen a");
    if (!f) return finish("fs");
    check(fputs("appended\n", f) >= 0, "fputs a");
    check(fclose(f) == 0, "fclose a");

    f = fopen(file, "r+");
    check(f != NULL, "fopen r+");
    if (!f) return finish("fs");
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    check(n == 21 && strcmp(buf, "hello, file\nappended\n") == 0, "fread all");
    check(fseek(f, 7, SEEK_SET) == 0, "fseek set");
    check(ftell(f) == 7, "ftell");
    memset(buf, 0, sizeof buf);
    check(fread(buf, 1, 4, f) == 4 && strcmp(buf, "file") == 0, "fread at 7");
    check(fseek(f, -9, SEEK_END) == 0 && ftell(f) == 12, "fseek end");
    check(fseek(f, 0, SEEK_SET) == 0 && fwrite("HELLO", 1, 5, f) == 5, "overwrite");
    check(fclose(f) == 0, "fclose r+");

    /* "a" appends even after a seek. */
    int fd = open(file, O_WRONLY | O_APPEND);
    check(fd >= 0, "open append");
    check(lseek(fd, 0, SEEK_SET) == 0, "lseek append");
    check(write(fd, "end\n", 4) == 4, "write append");
    close(fd);

    struct stat st;
    check(stat(file, &st) == 0 && st.st_size == 25 && S_ISREG(st.st_mode), "stat size 25");
    f = fopen(file, "r");
    memset(buf, 0, sizeof buf);
    check(f && fread(buf, 1, sizeof buf - 1, f) == 25, "reread");
    if (f) fclose(f);
    check(strcmp(buf, "HELLO, file\nappended\nend\n") == 0, "contents");

    check(mkdir(at(dir, "c-sub"), 0755) == 0, "mkdir");
    refused(mkdir(at(dir, "c-sub"), 0755), "mkdir again");
    check(errno == EEXIST, "mkdir again is EEXIST");
    check(rename(file, at(dir, "c-sub/moved.txt")) == 0, "rename");
    refused(access(file, F_OK), "old name gone");
    check(errno == ENOENT, "old name is ENOENT");
    check(access(at(dir, "c-sub/moved.txt"), R_OK) == 0, "new name exists");

    check(symlink("moved.txt", at(dir, "c-sub/link")) == 0, "symlink");
    char target[64] = {0};
    ssize_t len = readlink(at(dir, "c-sub/link"), target, sizeof target - 1);
    check(len == 9 && strcmp(target, "moved.txt") == 0, "readlink");
    struct stat lst;
    check(lstat(at(dir, "c-sub/link"), &lst) == 0 && S_ISLNK(lst.st_mode), "lstat is link");
    check(stat(at(dir, "c-sub/link"), &st) == 0 && st.st_size == 25, "stat follows link");
    check(link(at(dir, "c-sub/moved.txt"), at(dir, "c-sub/hard")) == 0, "link");
    check(stat(at(dir, "c-sub/hard"), &st) == 0 && st.st_nlink == 2, "nlink 2");

    DIR *d = opendir(at(dir, "c-sub"));
    check(d != NULL, "opendir");
    int seen = 0, dots = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
        } else if (strcmp(e->d_name, "moved.txt") == 0 && e->d_type == DT_REG) {
            seen |= 1;
        } else if (strcmp(e->d_name, "link") == 0 && e->d_type == DT_LNK) {
            seen |= 2;
        } else if (strcmp(e->d_name, "hard") == 0 && e->d_type == DT_REG) {
            seen |= 4;
        } else {
            printf("unexpected entry %s\n", e->d_name);
            failures++;
        }
    }
    if (d) closedir(d);
    check(seen == 7 && dots == 2, "readdir");

    refused(rmdir(at(dir, "c-sub")), "rmdir non-empty");
    check(errno == ENOTEMPTY, "rmdir non-empty is ENOTEMPTY");
    check(unlink(at(dir, "c-sub/link")) == 0, "unlink link");
    check(unlink(at(dir, "c-sub/hard")) == 0, "unlink hard");
    check(unlink(at(dir, "c-sub/moved.txt")) == 0, "unlink file");
    refused(unlink(at(dir, "c-sub/moved.txt")), "unlink again");
    check(rmdir(at(dir, "c-sub")) == 0, "rmdir");
    refused(open(at(dir, "c-sub"), O_RDONLY), "open removed dir");
    return finish("fs");
}

static int escape(const char *dir) {
    /* DIR holds `abs-link` (to an absolute host path outside it) and
       `up-link` (to `../outside.txt`), made by the test. */
    refused(open(at(dir, "../outside.txt"), O_RDONLY), "open ..");
    refused(open(at(dir, "a/../../outside.txt"), O_RDONLY), "open a/../..");
    refused(open("/etc/passwd", O_RDONLY), "open /etc/passwd");
    refused(open(at(dir, "abs-link"), O_RDONLY), "open abs-link");
    refused(open(at(dir, "up-link"), O_RDONLY), "open up-link");
    refused(open(at(dir, "../planted.txt"), O_WRONLY | O_CREAT, 0644), "create ..");
    struct stat st;
    refused(stat(at(dir, ".."), &st), "stat ..");
    refused(opendir(at(dir, "..")) ? 0 : -1, "opendir ..");
    refused(mkdir(at(dir, "../planted-dir"), 0755), "mkdir ..");
    refused(rename(at(dir, "abs-link"), at(dir, "../moved-link")), "rename to ..");
    refused(link(at(dir, "up-link"), at(dir, "../hard")), "link to ..");
    /* A symlink pointing out can be made, but not followed. */
    if (symlink("../outside.txt", at(dir, "made-link")) == 0) {
        refused(open(at(dir, "made-link"), O_RDONLY), "open made-link");
        unlink(at(dir, "made-link"));
    } else {
        printf("refused symlink out: %s\n", strerror(errno));
    }
    /* Raw WASI, bypassing wasi-libc's path handling. */
    __wasi_fd_t fd;
    __wasi_errno_t err = __wasi_path_open(3, 0, "../outside.txt", 0,
                                          __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw path_open ..: errno %d\n", err);
    if (err == 0) failures++;
    err = __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "/etc/passwd", 0,
                           __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw path_open /etc/passwd: errno %d\n", err);
    if (err == 0) failures++;
    return finish("escape");
}

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int clocks(void) {
    struct timespec t0, t1, real, res;
    check(clock_gettime(CLOCK_REALTIME, &real) == 0 && real.tv_sec > 1600000000, "realtime");
    check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(res) > 0, "getres");
    check(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "monotonic");
    struct timespec nap = {0, 20 * 1000000};
    check(nanosleep(&nap, NULL) == 0, "nanosleep");
    check(clock_gettime(CLOCK_MONOTONIC, &t1) == 0 && ns(t1) - ns(t0) >= 20000000, "slept 20ms");
    check(time(NULL) >= real.tv_sec, "time");
    refused(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0), "process cputime");
    return finish("clock");
}

static int random_bytes(void) {
    unsigned char a[32] = {0}, b[32] = {0};
    check(getentropy(a, sizeof a) == 0, "getentropy");
    check(getentropy(b, sizeof b) == 0, "getentropy again");
    check(memcmp(a, b, sizeof a) != 0, "getentropy differs");
    refused(getentropy(a, 257), "getentropy 257");
    uint32_t x = arc4random(), y = arc4random();
    uint32_t z = arc4random_uniform(10);
    check(x != y || x != arc4random(), "arc4random");
    check(z < 10, "arc4random_uniform");
    arc4random_buf(a, sizeof a);
    check(memcmp(a, b, sizeof a) != 0, "arc4random_buf");
    return finish("random");
}

static int calls(const char *dir) {
    /* fdstat of the standard streams. */
    for (int i = 0; i < 3; i++) {
        __wasi_fdstat_t s;
        __wasi_errno_t err = __wasi_fd_fdstat_get(i, &s);
        uint64_t want = i == 0 ? __WASI_RIGHTS_FD_READ : __WASI_RIGHTS_FD_WRITE;
        printf("fdstat %d: errno %d filetype %d rights %s\n", i, err, s.fs_filetype,
               (s.fs_rights_base & want) ? "yes" : "no");
    }

    char file[512];
    snprintf(file, sizeof file, "%s/calls.bin", dir);
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0, "open");
    struct stat st;
    check(posix_fallocate(fd, 0, 4096) == 0, "fd_allocate");
    check(fstat(fd, &st) == 0 && st.st_size == 4096, "allocated size 4096");
    check(posix_fallocate(fd, 100, 10) == 0 && fstat(fd, &st) == 0 && st.st_size == 4096,
          "fd_allocate inside keeps size");
    check(posix_fadvise(fd, 0, 4096, POSIX_FADV_SEQUENTIAL) == 0, "fd_advise");
    check(posix_fadvise(fd, 0, 0, 99) == EINVAL, "fd_advise bad advice is EINVAL");
    check(write(fd, "data", 4) == 4, "write");
    check(fsync(fd) == 0, "fd_sync");
    check(fdatasync(fd) == 0, "fd_datasync");

    /* Timestamps, on the descriptor and on the path. */
    struct timespec times[2] = {{1000000000, 5}, {1234567890, 123456789}};
    check(futimens(fd, times) == 0, "fd_filestat_set_times");
    check(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
              st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 123456789,
          "times set on fd");
    /* Keep atime, set mtime to now. Raw WASI: Debian's wasi-libc headers
       define UTIME_OMIT and UTIME_NOW twice, with different values. */
    check(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW) == 0,
          "set_times omit/now");
    check(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
              st.st_mtim.tv_sec > 1600000000,
          "atime kept, mtime now");
    struct timespec path_times[2] = {{2000000000, 0}, {1500000000, 42}};
    check(utimensat(AT_FDCWD, file, path_times, 0) == 0, "path_filestat_set_times");
    check(stat(file, &st) == 0 && st.st_atim.tv_sec == 2000000000 &&
              st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 42,
          "times set on path");
    check(symlink("calls.bin", at(dir, "calls.link")) == 0, "symlink");
    struct timespec link_times[2] = {{1100000000, 0}, {1100000000, 0}};
    int r = utimensat(AT_FDCWD, at(dir, "calls.link"), link_times, AT_SYMLINK_NOFOLLOW);
    printf("set_times on the link itself: %s\n", r == 0 ? "ok" : strerror(errno));
    check(stat(file, &st) == 0 && st.st_mtim.tv_sec == 1500000000, "target untouched");
    unlink(at(dir, "calls.link"));

    /* fd_renumber: `other` takes over `fd`'s file; `fd` is closed. */
    int other = open(at(dir, "other.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(other >= 0 && other != fd, "open other");
    check(__wasi_fd_renumber(fd, other) == 0, "fd_renumber");
    check(fstat(other, &st) == 0 && st.st_size == 4096, "renumbered fd is the first file");
    check(fstat(fd, &st) != 0 && errno == EBADF, "old fd closed");
    check(__wasi_fd_renumber(other, 999) == __WASI_ERRNO_BADF, "renumber to closed fd is EBADF");
    check(__wasi_fd_renumber(999, other) == __WASI_ERRNO_BADF, "renumber from closed fd is EBADF");
    close(other);
    unlink(file);
    unlink(at(dir, "other.txt"));
    return finish("calls");
}

static int poll_mode(const char *dir) {
    /* Three relative clocks: the earliest (20ms) wakes the poll. */
    __wasi_subscription_t subs[3];
    uint64_t timeouts[3] = {500000000, 20000000, 300000000};
    for (int i = 0; i < 3; i++) {
        memset(&subs[i], 0, sizeof subs[i]);
        subs[i].userdata = 100 + i;
        subs[i].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        subs[i].u.u.clock.timeout = timeouts[i];
    }
    __wasi_event_t events[4];
    __wasi_size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check(__wasi_poll_oneoff(subs, events, 3, &n) == 0, "poll clocks");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t took = ns(t1) - ns(t0);
    check(n == 1 && events[0].userdata == 101 && events[0].type == __WASI_EVENTTYPE_CLOCK &&
              events[0].error == 0,
          "earliest clock fires alone");
    check(took >= 20000000 && took < 300000000, "slept until the earliest");

    /* An absolute deadline in the past fires at once, with a relative one. */
    __wasi_timestamp_t now;
    check(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &now) == 0, "clock_time_get");
    subs[0].u.u.clock.timeout = now;
    subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    subs[1].u.u.clock.timeout = 0;
    check(__wasi_poll_oneoff(subs, events, 3, &n) == 0, "poll abstime");
    check(n == 2 && events[0].userdata + events[1].userdata == 201, "past and zero clocks fire");

    /* Descriptors: a file is ready to read and write at once, stdout to
       write; the clock beside them does not make the poll wait. */
    int fd = open(at(dir, "poll.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0 && write(fd, "0123456789", 10) == 10 && lseek(fd, 4, SEEK_SET) == 4,
          "file with 6 bytes left");
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = fd;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    subs[2].userdata = 3;
    subs[2].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[2].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[2].u.u.clock.timeout = 5000000000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check(__wasi_poll_oneoff(subs, events, 3, &n) == 0, "poll fds");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check(ns(t1) - ns(t0) < 1000000000, "fds ready at once");
    int got = 0;
    uint64_t left = 0;
    for (__wasi_size_t i = 0; i < n; i++) {
        printf("event %llu type %d errno %d nbytes %llu\n",
               (unsigned long long)events[i].userdata, events[i].type, events[i].error,
               (unsigned long long)events[i].fd_readwrite.nbytes);
        got |= 1 << events[i].userdata;
        if (events[i].userdata == 1) left = events[i].fd_readwrite.nbytes;
    }
    check(got == 6, "both fds ready, clock not");
    check(left == 6, "read event counts the 6 bytes left");

    /* A closed descriptor is reported with EBADF in its event. */
    subs[0].u.u.fd_read.file_descriptor = 999;
    check(__wasi_poll_oneoff(subs, events, 1, &n) == 0 && n == 1 &&
              events[0].error == __WASI_ERRNO_BADF,
          "closed fd is EBADF");
    close(fd);
    unlink(at(dir, "poll.txt"));
    return finish("poll");
}

static int echo(int listener) {
    __wasi_fdstat_t st;
    check(__wasi_fd_fdstat_get(listener, &st) == 0 &&
              st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM,
          "listener is a socket");
    /* Non-blocking, with nobody connecting yet: EAGAIN. */
    int fl = fcntl(listener, F_GETFL);
    check(fcntl(listener, F_SETFL, fl | O_NONBLOCK) == 0, "set nonblock");
    check((fcntl(listener, F_GETFL) & O_NONBLOCK) != 0, "nonblock reported");
    refused(accept(listener, NULL, NULL), "accept nonblocking");
    check(errno == EAGAIN, "accept nonblocking is EAGAIN");
    check(fcntl(listener, F_SETFL, fl) == 0, "clear nonblock");
    refused(shutdown(listener, SHUT_RDWR), "shutdown listener");
    refused(send(1, "x", 1, 0), "send on stdout");
    /* poll() waits on the host socket: nobody yet, so the 50ms run out. */
    struct pollfd p = {listener, POLLIN, 0};
    check(poll(&p, 1, 50) == 0 && p.revents == 0, "poll times out");
    /* The test connects once it reads this line. */
    printf("accepting\n");
    fflush(stdout);
    p.revents = 0;
    check(poll(&p, 1, 30000) == 1 && (p.revents & POLLIN), "poll sees the connection");
    int conn = accept(listener, NULL, NULL);
    check(conn >= 0, "accept");
    if (conn < 0) return finish("echo");
    struct pollfd c = {conn, POLLIN, 0};
    check(poll(&c, 1, 30000) == 1 && (c.revents & POLLIN), "poll sees data");
    char line[256];
    size_t len = 0;
    while (len < sizeof line - 1) {
        ssize_t n = recv(conn, line + len, 1, 0);
        if (n <= 0) break;
        len++;
        if (line[len - 1] == '\n') break;
    }
    check(len > 0, "recv");
    char reply[300];
    int rlen = snprintf(reply, sizeof reply, "echo: %.*s", (int)len, line);
    check(send(conn, reply, rlen, 0) == rlen, "send");
    check(shutdown(conn, SHUT_RDWR) == 0, "shutdown");
    check(close(conn) == 0, "close");
    return finish("echo");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : ".";
    if (strcmp(mode, "hello") == 0) return hello(argc, argv);
    if (strcmp(mode, "exit") == 0) exit(atoi(arg));
    if (strcmp(mode, "abort") == 0) abort();
    if (strcmp(mode, "cat") == 0) return cat();
    if (strcmp(mode, "fs") == 0) return fs(arg);
    if (strcmp(mode, "escape") == 0) return escape(arg);
    if (strcmp(mode, "clock") == 0) return clocks();
    if (strcmp(mode, "random") == 0) return random_bytes();
    if (strcmp(mode, "calls") == 0) return calls(arg);
    if (strcmp(mode, "poll") == 0) return poll_mode(arg);
    if (strcmp(mode, "echo") == 0) return echo(atoi(arg));
    fprintf(stderr, "probe-c: unknown mode `%s`\n", mode);
    return 2;
}
