import socketserver

FLAG = open("/srv/flag.txt").read().strip()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        word = self.rfile.readline(64).strip()
        self.wfile.write((FLAG if word == b"please" else "no").encode() + b"\n")


socketserver.TCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", 7000), Handler).serve_forever()
