using System.Net;
using System.Net.Sockets;

namespace Durably.Runtime.Tests.Support;

/// <summary>A real HTTP server on 127.0.0.1 and a free port, answering each request with a test's handler.</summary>
internal sealed class LocalHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerContext, Task> _handle;

    public LocalHttpServer(Func<HttpListenerContext, Task> handle)
    {
        _handle = handle;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
        }

        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = ServeAsync();
    }

    /// <summary>The server's base address, ending in a slash.</summary>
    public string Url { get; }

    /// <summary>Stops listening: later requests are refused.</summary>
    public void Stop() => _listener.Stop();

    public void Dispose() => _listener.Close();

    public static Task Respond(HttpListenerContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.Close();
        return Task.CompletedTask;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // Each request on its own: a handler that holds its answer back does not hold up the next request.
            _ = _handle(context);
        }
    }
}
