build/clang/daemon/refitctl.o: daemon/refitctl.c daemon/ctl.h

daemon/ctl.h:
