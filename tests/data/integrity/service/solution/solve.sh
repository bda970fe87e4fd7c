#!/bin/sh
printf 'the-check-secret-4e1f' | python3 -c 'import socket,sys; s=socket.create_connection(("web",7000)); s.sendall(sys.stdin.buffer.read()); s.close()'
