using AkkaMigration.Client.Console;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A container's output is the workload's to choose: on an operator's terminal it must stay text,
/// never commands to the terminal, nor one line that floods the screen.
/// </summary>
public sealed class TerminalTextSpecs
{
    [Theory]
    // Colours and cursor moves (CSI), a screen clear, a private mode.
    [InlineData("\u001b[31mred\u001b[0m text", "red text")]
    [InlineData("before\u001b[2J\u001b[Hafter", "beforeafter")]
    [InlineData("\u001b[?1049hhidden", "hidden")]
    // A window title and a clipboard write (OSC), ended by BEL, by ST, or not at all.
    [InlineData("a\u001b]0;pwned\u0007b", "ab")]
    [InlineData("a\u001b]52;c;ZWNobyBwd25lZA==\u001b\\b", "ab")]
    [InlineData("a\u001b]8;;http://evil/\u001b\\link\u001b]8;;\u001b\\b", "alinkb")]
    [InlineData("a\u001b]0;unterminated", "a")]
    // Device control strings, a terminal reset, a charset switch, keypad mode.
    [InlineData("a\u001bP$q m\u001b\\b", "ab")]
    [InlineData("a\u001bcb", "ab")]
    [InlineData("a\u001b(0b", "ab")]
    [InlineData("a\u001b=b", "ab")]
    // The 8-bit C1 forms: CSI, OSC ended by ST, NEL alone.
    [InlineData("a\u009b31mb", "ab")]
    [InlineData("a\u009d0;title\u009cb", "ab")]
    [InlineData("a\u0085b", "ab")]
    // A carriage return or backspaces that would rewrite what the line showed, a bell, DEL, NUL.
    [InlineData("rm -rf / done\rall fine", "rm -rf / doneall fine")]
    [InlineData("secret\b\b\b\b\b\bhidden", "secrethidden")]
    [InlineData("ding\u0007\u007f\0", "ding")]
    // A lone ESC at the end, and ESC before a newline: the newline stays.
    [InlineData("end\u001b", "end")]
    [InlineData("one\u001b\ntwo", "one\ntwo")]
    [InlineData("one\u001b]0;title\ntwo", "one\ntwo")]
    public void Control_sequences_are_stripped_and_the_text_around_them_kept(string hostile, string shown)
    {
        Assert.Equal(shown, TerminalText.Printable(hostile));
    }

    [Theory]
    [InlineData("tab\tseparated")]
    [InlineData("two\nlines")]
    [InlineData("ünïcödé ✓ 😀 text")]
    [InlineData("")]
    public void Tabs_newlines_and_any_printable_text_pass_unchanged(string text)
    {
        Assert.Equal(text, TerminalText.Printable(text));
    }

    [Fact]
    public void A_line_longer_than_the_bound_is_cut_with_a_marker_and_each_line_is_bounded_on_its_own()
    {
        var flood = new string('x', 1_000_000);

        var shown = TerminalText.Printable($"{flood}\nshort\n{flood}");

        var lines = shown.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.All([lines[0], lines[2]], l =>
        {
            Assert.Equal(TerminalText.MaxLineLength, l.Length);
            Assert.EndsWith(TerminalText.CutMarker, l);
        });
        Assert.Equal("short", lines[1]);
    }

    [Fact]
    public void A_line_of_exactly_the_bound_is_whole_and_a_printable_line_prints_the_same_again()
    {
        var full = new string('y', TerminalText.MaxLineLength);
        var cut = TerminalText.Printable(full + "z\u001b[31m");

        Assert.Equal(full, TerminalText.Printable(full));
        Assert.Equal(cut, TerminalText.Printable(cut));
    }

    [Fact]
    public void Escape_sequences_do_not_count_toward_the_bound_and_a_cut_never_splits_a_surrogate_pair()
    {
        var coloured = string.Concat(Enumerable.Repeat("\u001b[32m", 10_000)) + "ok";
        var emoji = string.Concat(Enumerable.Repeat("😀", TerminalText.MaxLineLength));

        Assert.Equal("ok", TerminalText.Printable(coloured));
        var shown = TerminalText.Printable(emoji);
        Assert.EndsWith(TerminalText.CutMarker, shown);
        Assert.False(char.IsHighSurrogate(shown[^(TerminalText.CutMarker.Length + 1)]));
    }
}
