build/clang/daemon/ctl_ignore.o: daemon/ctl_ignore.c daemon/ctl.h

daemon/ctl.h:
