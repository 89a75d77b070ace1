#ifndef WARDEN_CSYSTEM_H
#define WARDEN_CSYSTEM_H
/* Syscalls that Swift's Glibc module does not export. Filled in by the EventLoop work. */
int csystem_placeholder(void);
#endif
