build/clang/daemon/ctl_lint.o: daemon/ctl_lint.c daemon/ctl.h

daemon/ctl.h:
