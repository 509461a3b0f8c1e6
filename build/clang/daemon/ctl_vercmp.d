build/clang/daemon/ctl_vercmp.o: daemon/ctl_vercmp.c daemon/ctl.h

daemon/ctl.h:
