/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker threads for filesystem calls that can block without bound (design: "a worker may
 * run it and post the result back; workers never touch agent state"). One short-lived
 * thread per job, at most max_running at once; finished jobs are queued under a mutex and
 * an eventfd wakes the loop, which runs their done callbacks.
 *
 * A worker stuck forever (a dead virtiofsd) keeps its slot; fs_jobs_free() cannot join it,
 * so the queue outlives the owner until the last worker is gone (shared refcount).
 */
#define LOG_SUBSYSTEM "storage"
#include "mount.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

struct fs_jobs {
	struct ev_loop *loop;
	int efd;
	struct ev_io io;
	pthread_mutex_t lock;
	struct fs_job *finished; /* LIFO, reversed when drained */
	unsigned running;
	unsigned max_running;
	unsigned refs; /* the owner + running workers, under lock */
	bool closed;
};

struct worker_arg {
	struct fs_jobs *q;
	struct fs_job *j;
};

static void queue_unref_locked(struct fs_jobs *q, bool *free_it)
{
	*free_it = --q->refs == 0;
}

static void queue_destroy(struct fs_jobs *q)
{
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static void *worker(void *p)
{
	struct worker_arg a = *(struct worker_arg *)p;
	free(p);
	a.j->work(a.j);

	bool free_it;
	pthread_mutex_lock(&a.q->lock);
	a.q->running--;
	if (a.q->closed) {
		pthread_mutex_unlock(&a.q->lock);
		a.j->discard(a.j);
		pthread_mutex_lock(&a.q->lock);
	} else {
		a.j->next = a.q->finished;
		a.q->finished = a.j;
		uint64_t one = 1;
		(void)!write(a.q->efd, &one, sizeof(one));
	}
	queue_unref_locked(a.q, &free_it);
	pthread_mutex_unlock(&a.q->lock);
	if (free_it)
		queue_destroy(a.q);
	return NULL;
}

static void drain_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct fs_jobs *q = io->data;
	uint64_t n;
	(void)!read(q->efd, &n, sizeof(n));
	pthread_mutex_lock(&q->lock);
	struct fs_job *list = q->finished, *rev = NULL;
	q->finished = NULL;
	pthread_mutex_unlock(&q->lock);
	while (list) {
		struct fs_job *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct fs_job *next = rev->next;
		rev->done(rev);
		rev = next;
	}
}

int fs_jobs_new(struct ev_loop *loop, unsigned max_running, struct fs_jobs **ret)
{
	struct fs_jobs *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->loop = loop;
	q->max_running = max_running ? max_running : 1;
	q->refs = 1;
	pthread_mutex_init(&q->lock, NULL);
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		int r = -errno;
		queue_destroy(q);
		return r;
	}
	int r = ev_io_start(loop, &q->io, q->efd, EPOLLIN, drain_cb, q);
	if (r < 0) {
		close(q->efd);
		queue_destroy(q);
		return r;
	}
	*ret = q;
	return 0;
}

int fs_job_submit(struct fs_jobs *q, struct fs_job *j)
{
	pthread_mutex_lock(&q->lock);
	if (q->running >= q->max_running) {
		pthread_mutex_unlock(&q->lock);
		return -EAGAIN;
	}
	q->running++;
	q->refs++;
	pthread_mutex_unlock(&q->lock);

	struct worker_arg *a = malloc(sizeof(*a));
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int r = a ? 0 : ENOMEM;
	if (a) {
		*a = (struct worker_arg){q, j};
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		/* Signals stay with the loop thread (signalfd). */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&tid, &attr, worker, a);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		free(a);
		pthread_mutex_lock(&q->lock);
		q->running--;
		q->refs--;
		pthread_mutex_unlock(&q->lock);
		return -r;
	}
	return 0;
}

void fs_jobs_free(struct fs_jobs *q)
{
	if (!q)
		return;
	ev_io_stop(q->loop, &q->io);
	bool free_it;
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	struct fs_job *list = q->finished;
	q->finished = NULL;
	queue_unref_locked(q, &free_it);
	pthread_mutex_unlock(&q->lock);
	while (list) {
		struct fs_job *next = list->next;
		list->discard(list);
		list = next;
	}
	/* The eventfd is only written under the lock while not closed. */
	close(q->efd);
	if (free_it)
		queue_destroy(q);
}
