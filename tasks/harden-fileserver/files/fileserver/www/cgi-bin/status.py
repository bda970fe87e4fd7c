import time
print("status: ok")
print("uptime-check", int(time.time()) > 0)
