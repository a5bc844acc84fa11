/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the usb-* guest tests: the Debian USB gadget modules, our
 * dummy_hcd (with scatter-gather, /lib/izc/extra), our converter modules,
 * and running the izc-usb-bridge daemon and the izc-usb-host client (from
 * /usr/bin, else /tests) as child processes.
 */
#ifndef IZC_TESTS_USB_ENV_H
#define IZC_TESTS_USB_ENV_H

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define USB_ENV_GADGET "/sys/kernel/config/usb_gadget/izc_bridge"

static inline bool usb_env_module_loaded(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	bool found = false;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ' ';
	fclose(f);
	return found;
}

static inline int usb_env_insmod(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Debian's gadget stack and configfs; bails out if they cannot be had. */
static inline void usb_env_gadget_stack(void)
{
	static const char *const mods[] = {
		"usb_common", "usbcore", "configfs", "udc_core", "libcomposite", "usb_f_fs",
	};
	char path[128];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (usb_env_module_loaded(mods[i]))
			continue;
		snprintf(path, sizeof(path), "/lib/modules/kernel/%s.ko", mods[i]);
		ret = usb_env_insmod(path, NULL);
		if (ret && ret != -EEXIST)
			tap_bail("Debian module %s: %s", mods[i], strerror(-ret));
	}
	if (access("/sys/kernel/config/usb_gadget", F_OK) &&
	    mount("none", "/sys/kernel/config", "configfs", 0, NULL))
		tap_bail("mount configfs: %s", strerror(errno));
}

/* One of our modules: /lib/izc/NAME.ko, or /lib/izc/extra/NAME.ko. */
static inline int usb_env_load(const char *name, const char *params)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "/lib/izc/%s.ko", name);
	ret = usb_env_insmod(path, params);
	if (ret == -ENOENT) {
		snprintf(path, sizeof(path), "/lib/izc/extra/%s.ko", name);
		ret = usb_env_insmod(path, params);
	}
	return ret;
}

/* Unload, waiting a little while users let go (the host side of a link). */
static inline int usb_env_unload(const char *name)
{
	int i, ret = -EBUSY;

	for (i = 0; i < 100 && ret == -EBUSY; i++) {
		ret = syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
		if (ret == -EBUSY)
			usleep(50000);
	}
	return ret;
}

static inline double usb_env_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Path of tool @name: /usr/bin first, then beside the tests. */
static inline const char *usb_env_tool(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/usr/bin/%s", name);
	if (access(buf, X_OK))
		snprintf(buf, len, "/tests/%s", name);
	return buf;
}

/*
 * Start a program with stdout to @out_path (NULL: inherit) and stderr to
 * @err_path (NULL: inherit). argv[0] is a tool name. Returns the pid once
 * the child has exec'd the program, or -errno: of fork(), or of a failed
 * execv() (the child reports it through a close-on-exec pipe, whose end of
 * file means the exec went through; the failed child is reaped), so a pid
 * > 0 means the program really runs.
 */
static inline pid_t usb_env_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	char path[128];
	int report[2], err = 0;
	ssize_t n;
	pid_t pid;

	usb_env_tool(argv[0], path, sizeof(path));
	if (pipe(report))
		return -errno;
	fcntl(report[0], F_SETFD, FD_CLOEXEC);
	fcntl(report[1], F_SETFD, FD_CLOEXEC);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(report[0]);
		close(report[1]);
		return -err;
	}
	if (pid == 0) {
		close(report[0]);
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0)
				dup2(fd, 1);
		}
		if (err_path) {
			int fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

			if (fd >= 0)
				dup2(fd, 2);
		}
		execv(path, argv);
		err = errno;
		if (write(report[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
			_exit(126);
		_exit(127);
	}
	close(report[1]);
	do
		n = read(report[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == 0)
		return pid;
	waitpid(pid, NULL, 0);
	return n == (ssize_t)sizeof(err) && err ? -err : -EIO;
}

/* Wait for @pid up to @timeout_s (then SIGKILL); exit code, 128+sig, or -1. */
/* Print where a process that overran its bound is, as TAP diagnostics. */
static inline void usb_env_dump_stuck(pid_t pid)
{
	static const char *const what[] = {"wchan", "stack", "status"};
	char path[64], buf[2048];

	for (unsigned int i = 0; i < 3; i++) {
		ssize_t n = -1;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what[i]);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		buf[n > 0 ? n : 0] = 0;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			if (i != 2 || !strncmp(line, "State:", 6))
				tap_diag("pid %d %s: %s", (int)pid, what[i], line);
	}
}

static inline int usb_env_wait(pid_t pid, int timeout_s)
{
	double end = usb_env_now() + timeout_s;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		if (usb_env_now() > end) {
			usb_env_dump_stuck(pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 128 + SIGKILL;
		}
		usleep(20000);
	}
}

/* Run a tool to the end; its stdout goes to @out (len bytes, NUL-ended). */
static inline int usb_env_run(char *const argv[], char *out, size_t len, int timeout_s)
{
	const char *tmp = "/tmp/usb-env.out";
	pid_t pid = usb_env_spawn(argv, out ? tmp : NULL, NULL);
	int ret;

	if (pid < 0)
		return -1;
	ret = usb_env_wait(pid, timeout_s);
	if (out) {
		ssize_t n = -1;
		int fd = open(tmp, O_RDONLY);

		if (fd >= 0) {
			n = read(fd, out, len - 1);
			close(fd);
		}
		out[n > 0 ? n : 0] = 0;
		unlink(tmp);
	}
	return ret;
}

/* A number after "key": in a JSON line; -1 if missing. */
static inline double usb_env_json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* The string after "key": in a JSON line, copied to buf ("" if missing). */
static inline const char *usb_env_json_str(const char *json, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (p)
		for (p += strlen(pat); p[n] && p[n] != '"' && n + 1 < len; n++)
			buf[n] = p[n];
	buf[n] = 0;
	return buf;
}

static inline bool usb_env_json_true(const char *json, const char *key)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\":true", key);
	return strstr(json, pat) != NULL;
}

/* Does file @path contain @needle? */
static inline bool usb_env_file_has(const char *path, const char *needle)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, needle) != NULL;
}

/* Start izc-usb-bridge (extra args in @args, NULL-ended); stderr appended to @log. */
static inline pid_t usb_env_bridge_start(const char *const *args, const char *log)
{
	char *argv[16] = {"izc-usb-bridge"};
	int i;

	for (i = 0; args && args[i] && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	return usb_env_spawn(argv, NULL, log);
}

/* SIGTERM the daemon and wait; returns its exit code (0 clean). */
static inline int usb_env_bridge_stop(pid_t pid)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	return usb_env_wait(pid, 60);
}

/* Print a log file as TAP diagnostics. */
static inline void usb_env_diag_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		tap_diag("  %s", line);
	}
	if (f)
		fclose(f);
}

#endif /* IZC_TESTS_USB_ENV_H */
