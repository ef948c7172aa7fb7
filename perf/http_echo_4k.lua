-- perf/http_echo_4k.lua — wrk script for the HTTP benchmark's 4 KiB row (perf/http_bench.py):
-- every request is POST /echo with a 4,096-byte body (wrk adds the Content-Length), and
-- every server answers with the same 4,096 bytes, so 4 KiB travels each way.
wrk.method = "POST"
wrk.path = "/echo"
wrk.body = string.rep("0123456789abcdef", 256)
wrk.headers["Content-Type"] = "application/octet-stream"
