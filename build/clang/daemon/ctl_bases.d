build/clang/daemon/ctl_bases.o: daemon/ctl_bases.c daemon/ctl.h

daemon/ctl.h:
