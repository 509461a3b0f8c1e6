build/clang/daemon/ctl_ref.o: daemon/ctl_ref.c daemon/ctl.h

daemon/ctl.h:
