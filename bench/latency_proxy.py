"""A TCP proxy that delays every byte by a fixed time in each direction, to time clients of a
local server as if it were across a network (bench/register-bench.sh: FlyteAdmin in a cloud region
is tens of milliseconds away; the stand-in on 127.0.0.1 is not).

    python3 latency_proxy.py UPSTREAM_HOST:PORT ONE_WAY_MS

Prints `READY 127.0.0.1:PORT` once listening. Order and throughput are kept: each chunk is
forwarded ONE_WAY_MS after it arrived, so a request/answer pair costs 2 x ONE_WAY_MS more.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, chunk = await queue.get()
            if chunk is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    delay = float(sys.argv[2]) / 1000.0

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer, delay), pipe(up_reader, client_writer, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"READY 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
