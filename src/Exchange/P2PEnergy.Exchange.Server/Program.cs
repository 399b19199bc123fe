using P2PEnergy.Exchange.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddExchange();

var app = builder.Build();
app.MapExchange();
app.Run();

/// <summary>The exchange host; public so that tests can start it with WebApplicationFactory.</summary>
public partial class Program;
