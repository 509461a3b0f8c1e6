build/clang/daemon/main.o: daemon/main.c
