using System.Buffers.Binary;
using SkiaSharp;

namespace P2PEnergy.Report.Tests;

public sealed class FilesTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly string folder = Path.Combine(Path.GetTempPath(), "p2penergy-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Every_file_is_written_into_a_new_folder()
    {
        var report = Sample.Report();
        var files = report.WriteTo(Path.Combine(folder, "out"));
        Assert.Equal(Path.Combine(folder, "out"), files.Folder);
        Assert.Equal(
            ["report.md", "slots.csv", "participants.csv", "types.csv", "clearing-prices.png", "energy-traded.png", "savings-by-type.png", "state-of-charge.png"],
            files.All.Select(Path.GetFileName));
        Assert.All(files.All, f => Assert.True(File.Exists(f), f));
        Assert.Equal(report.RenderMarkdown(), File.ReadAllText(files.Markdown));
        Assert.Equal(report.SlotsCsv(), File.ReadAllText(files.Csv[0]));
        Assert.Equal(report.ParticipantsCsv(), File.ReadAllText(files.Csv[1]));
        // UTF-8 without a byte-order mark.
        Assert.Equal((byte)'#', File.ReadAllBytes(files.Markdown)[0]);
    }

    [Fact]
    public void Plots_are_valid_pngs_of_the_stated_size_and_not_trivial()
    {
        var files = Sample.Report().WriteTo(folder);
        Assert.Equal(4, files.Plots.Count);
        foreach (var plot in files.Plots)
        {
            var bytes = File.ReadAllBytes(plot);
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(PngSignature), $"{plot}: no PNG signature");
            // The first chunk is IHDR: width and height, big-endian, after the 8-byte signature and the chunk's length and type.
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.Equal(1000, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(560, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
            Assert.True(bytes.Length > 10_000, $"{plot}: only {bytes.Length} bytes");
            using var bitmap = SKBitmap.Decode(plot);
            Assert.NotNull(bitmap);
            Assert.True(Colours(bitmap).Count > 50, $"{plot}: hardly anything drawn");
        }
    }

    [Fact]
    public void The_traded_energy_plot_draws_a_bar_per_source_that_traded()
    {
        var green = new SKColor(0x2c, 0xa0, 0x2c);
        var grey = new SKColor(0x7f, 0x7f, 0x7f);

        var both = Sample.Report().WriteTo(Path.Combine(folder, "both"));
        using (var bitmap = SKBitmap.Decode(both.Plots[1]))
        {
            Assert.True(Count(bitmap, green) > 5000);
            Assert.True(Count(bitmap, grey) > 5000);
        }

        // Without the mixed lot, only the legend's swatch is grey.
        var renewableOnly = Sample.Result() with { Slots = Sample.Market.Select(m => m with { MixedTradedWh = 0 }).ToList() };
        var files = CommunityReport.Build(renewableOnly).WriteTo(Path.Combine(folder, "renewable"));
        using (var bitmap = SKBitmap.Decode(files.Plots[1]))
        {
            Assert.True(Count(bitmap, green) > 5000);
            Assert.True(Count(bitmap, grey) < 1000);
        }
    }

    [Fact]
    public void Without_storage_the_state_of_charge_plot_still_exists()
    {
        var noPhev = Sample.Result() with
        {
            Participants = Sample.Participants.Where(p => p.Type != ParticipantType.Phev).ToList(),
            ParticipantSlots = Sample.Rows.Where(r => r.Participant != Sample.Tanaka).ToList(),
            Baselines = Sample.Baselines.Where(b => b.Participant != Sample.Tanaka).ToList(),
        };
        var report = CommunityReport.Build(noPhev);
        Assert.Empty(report.Storage);
        var files = report.WriteTo(folder);
        Assert.True(new FileInfo(files.Plots[3]).Length > 10_000);
        Assert.Contains("PHEV users' saving: no saving to compare", string.Join('\n', report.Pilot.Differences));
    }

    private static HashSet<SKColor> Colours(SKBitmap bitmap)
    {
        var set = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height; y += 3)
            for (var x = 0; x < bitmap.Width; x += 3)
                set.Add(bitmap.GetPixel(x, y));
        return set;
    }

    private static int Count(SKBitmap bitmap, SKColor colour)
    {
        var n = 0;
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) is var p && p.Red == colour.Red && p.Green == colour.Green && p.Blue == colour.Blue) n++;
        return n;
    }
}
