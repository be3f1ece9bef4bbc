using System.Text;

namespace AkkaMigration.Client.Console;

/// <summary>
/// Text from a node (a container's output above all) made safe for an operator's terminal: whatever
/// a container prints must not move the cursor, retitle the window, rewrite the clipboard or the
/// lines already shown (escape sequences, carriage returns), nor flood the screen with one line.
/// </summary>
public static class TerminalText
{
    /// <summary>The longest line printed; a longer one is cut and ends with <see cref="CutMarker"/>.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>What ends a line that was cut.</summary>
    public const string CutMarker = " […cut]";

    private const char Escape = '\u001b';
    private const char Bell = '\u0007';

    /// <summary>
    /// <paramref name="text"/> without terminal control sequences (ESC and its CSI, OSC, DCS, SOS, PM
    /// and APC strings, their 8-bit C1 forms) and without any other C0 or C1 control but tab and
    /// newline; each of its lines at most <see cref="MaxLineLength"/> characters. Idempotent.
    /// </summary>
    public static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var clean = new StringBuilder(Math.Min(text.Length, MaxLineLength));
        var (lineLength, cut) = (0, false);
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (c == Escape || c is >= '\u0080' and <= '\u009f')
            {
                i = AfterSequence(text, i);
                continue;
            }
            i++;
            if (c == '\n')
            {
                clean.Append(c);
                (lineLength, cut) = (0, false);
            }
            else if (cut || (char.IsControl(c) && c != '\t'))
            {
                // A cut line's rest, or a control such as CR or backspace that would rewrite what is shown.
            }
            else if (lineLength < MaxLineLength)
            {
                clean.Append(c);
                lineLength++;
            }
            else
            {
                clean.Length -= CutMarker.Length;
                if (char.IsHighSurrogate(clean[^1]))
                {
                    clean.Length--;
                }
                clean.Append(CutMarker);
                cut = true;
            }
        }
        return clean.ToString();
    }

    /// <summary>Where the escape sequence or C1 control at <paramref name="start"/> ends (the index after it).</summary>
    private static int AfterSequence(string text, int start)
    {
        char introducer;
        int i;
        if (text[start] == Escape)
        {
            if (start + 1 == text.Length || char.IsControl(text[start + 1]))
            {
                return start + 1;
            }
            (introducer, i) = (text[start + 1], start + 2);
        }
        else
        {
            // C1 control 0x80-0x9f: the 8-bit form of ESC followed by 0x40-0x5f.
            (introducer, i) = ((char)(text[start] - 0x40), start + 1);
        }
        switch (introducer)
        {
            case '[':
                // CSI: parameters and intermediates (0x20-0x3f), then one final byte (0x40-0x7e).
                while (i < text.Length && text[i] is >= ' ' and <= '?')
                {
                    i++;
                }
                return i < text.Length && text[i] is >= '@' and <= '~' ? i + 1 : i;
            case ']' or 'P' or 'X' or '^' or '_':
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \ or 0x9c); at most to the line's end.
                while (i < text.Length && text[i] is not (Bell or '\u009c' or '\n')
                       && !(text[i] == Escape && i + 1 < text.Length && text[i + 1] == '\\'))
                {
                    i++;
                }
                return i == text.Length || text[i] == '\n' ? i : text[i] == Escape ? i + 2 : i + 1;
            default:
                // Another C1 control alone; or ESC, intermediates (0x20-0x2f), one final byte: ESC c, ESC ( B, ESC 7.
                if (text[start] == Escape)
                {
                    while (introducer is >= ' ' and <= '/' && i < text.Length)
                    {
                        introducer = text[i++];
                    }
                }
                return i;
        }
    }
}
