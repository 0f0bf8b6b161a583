"""Pins the tests share: two real roots and two keys nobody serves."""

PIN_A = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="  # ISRG Root X1
PIN_B = "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="  # ISRG Root X2
PIN_C = "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="
PIN_D = "YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="
