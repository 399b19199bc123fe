namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>Where a file of an image's final stage came from: a file of the build context, or a stage (and the project published there).</summary>
public sealed record ImageFile(string PathInImage, DockerCopy Copy, string SourcePath, DockerStage? FromStage, string? PublishedProject)
{
    /// <summary>The file of the image at <paramref name="path"/> (absolute, or against the final stage's WORKDIR), or null when no COPY puts one there.</summary>
    public static ImageFile? Find(Dockerfile dockerfile, string path)
    {
        var final = dockerfile.Final;
        var target = final.Absolute(path);
        foreach (var copy in final.Copies.Reverse())
        {
            var destination = final.Absolute(copy.Destination);
            foreach (var source in copy.Sources)
            {
                string? sourcePath = null;
                if (destination.EndsWith('/') || copy.Sources.Count > 1)
                {
                    var folder = destination.TrimEnd('/') + "/";
                    if (source.EndsWith('/') || (copy.From is null && Directory.Exists(Repo.PathOf(source))))
                    {
                        // A folder's content goes into the destination folder.
                        if (target.StartsWith(folder, StringComparison.Ordinal)) sourcePath = source.TrimEnd('/') + "/" + target[folder.Length..];
                    }
                    else if (target == folder + Path.GetFileName(source))
                    {
                        sourcePath = source;
                    }
                }
                else if (target == destination)
                {
                    sourcePath = source;
                }
                else if (target.StartsWith(destination + "/", StringComparison.Ordinal))
                {
                    sourcePath = source.TrimEnd('/') + target[destination.Length..];
                }
                if (sourcePath is null) continue;
                if (copy.From is null) return new ImageFile(target, copy, sourcePath, null, null);
                var stage = dockerfile.Stage(copy.From);
                var published = stage.Publishes.FirstOrDefault(p => p.Output is { } output
                    && stage.Absolute(sourcePath).StartsWith(stage.Absolute(output).TrimEnd('/') + "/", StringComparison.Ordinal));
                return new ImageFile(target, copy, sourcePath, stage, published.Project);
            }
        }
        return null;
    }
}
