build/daemon/main.o: daemon/main.c
