"""Public comparison cases for benchmarks/checker.py, transcribed by hand (not copied files).

MATH_VERIFY: short cases from Math-Verify's own regression tests, huggingface/Math-Verify
``tests/test_all.py`` (commit cf14bc47e798017458fa7f60138da640065351ce; MIT), from the
groups test_number_extraction, test_simple_fraction_notation, test_sets_handling,
test_latex_notation, test_percent_notation, test_latex_notation_math, test_relations_math,
test_matrix_extraction and test_complex_math_expressions (the "tests from qwen parser" group,
which Math-Verify took from Qwen2.5-Math's grader). Only cases run at Math-Verify's default
precision are kept; long model outputs are shortened to their final sentence. Labels are
Math-Verify's expected values (1 = equal).
"""
from __future__ import annotations

T, F = True, False

MATH_VERIFY = [
    # test_number_extraction
    ("-5", "-5", T), ("7425000", "7,425,000", T), ("1000", "1 000", T), ("1000", "1000.0", T),
    ("1000.0", "1,000.0", T), ("1000.99", "1000,99", T), ("1,22", "1.22", T), ("0.4", ".4", T),
    ("1000.99", "1,000.99", T), ("1000.99", "$1,000.99", T), ("0,111", "0.111", T), ("2", "AZYUK2A", F),
    # test_simple_fraction_notation
    ("10/9", "\\frac{10}{9}", T), ("-10/9", "-\\frac{10}{9}", T),
    # test_sets_handling
    ("$[0,1)$", "$[0,1)$", T), ("$[0,9)$", "$[0,1)$", F), ("$(0,9)$", "$[0,9)$", F), ("$1$", "$-[0,1)$", F),
    # test_latex_notation
    ("$9$", "Answer \\[ 9 \\]", T), ("$9$", "Answer $ 9 $", T), ("$9$", "Answer $$ 9 $$", T),
    ("$9$", "Answer \\( 9 \\)", T), ("$10$", "Answer \\( (9+1) \\)", T), ("$1/3$", "$\\frac13 $", T),
    ("$1$", "$\\frac3{3} $", T), ("$\\sqrt{3}$", "$\\sqrt3 $", T), ("$1/3$", "$\\cfrac{1}{3} $", T),
    ("$1/3$", "$\\dfrac{1}{3} $", T), ("$1/3$", "$\\tfrac{1}{3} $", T), ("$1/3$", "$ 1/3 $", T),
    ("$1/3$", "$\\left( \\frac{1}{3} \\right)$", T), ("$1/3$", "$\\boxed{\\frac{1}{3}}$", T),
    ("$1/3$", "$\\frac{1}{3} \\text{meters}$", T), ("$1/3$", "$k = \\frac{1}{3}$", T),
    # test_percent_notation
    ("$28\\%$", "28 percent", T), ("$28\\%$", "28 pct", T), ("$28\\%$", "28 %", T),
    ("$28\\%$", "$28$ percent", T), ("$28\\%$", "$\\boxed{28 percent}", T), ("$28\\%$", "28", T),
    ("$0.28$", "28", F), ("$28/100$", "28", F), ("$28$", "28/100", F), ("$\\frac{28}{100}$", "28", F),
    # test_latex_notation_math (final sentences)
    ("$2-2p$", "Thus $x-p=\\boxed{2-2p}$.", T), ("$3\\sqrt{13}$", "& = \\sqrt{117} = \\boxed{3\\sqrt{13}}.", T),
    ("$15\\mbox{ cm}^2$", "$$\\frac{1}{2}\\times 3 \\times 10 = \\boxed{15\\mbox{ cm}^2}.$$", T),
    ("$-2,1$", "the only integer roots are $\\boxed{-2,1}.$", T),
    ("$90^\\circ$", "&= \\boxed{90^\\circ}. \\end{align*}", T), ("$204_5$", "for a quotient of $\\boxed{204_5}$.", T),
    ("$(6,31,-1)$", "we find $(p,q,r) = \\boxed{(6,31,-1)}.$", T),
    ("$1 \\pm \\sqrt{19}$", "By the quadratic formula, $x = \\boxed{1 \\pm \\sqrt{19}}.$", T),
    ("$\\{1\\pm\\sqrt{5},-2\\}$", "so the answer is $\\boxed{\\{1\\pm\\sqrt{5},-2\\}}.$", T),
    ("$f(2) < f(1) < f(4)$", "Hence, $\\boxed{f(2) < f(1) < f(4)}.$", T),
    ("$2 \\sin b \\cos a$", "\\[\\sin (a + b) - \\sin (a - b) = \\boxed{2 \\sin b \\cos a}.\\]", T),
    ("$125$ miles", "The distance is $\\boxed{125\\textnormal{ miles}}.$", T),
    ("$[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)$",
     "The solution set is $\\boxed{[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)}.$", T),
    ("$\\sqrt{2}+\\sqrt{5}$", "The answer is $\\boxed{\\sqrt 2+\\sqrt 5}$", T),
    ("$\\frac{9}{4}\\pi$", "Therefore $\\boxed{\\frac94\\pi}$.", T),
    ("x \\in \\boxed{\\{-1\\} \\cup [0,7)}.$", "x \\in \\boxed{\\{-1\\} \\cup [0,7)}.$", T),
    # test_relations_math
    ("$x >= 5$", "Therefore $x \\geq 5$ is the solution.", T), ("$x < 3$", "We find that $x \\lt 3$.", T),
    ("$x \\leq 2$", "Thus $x <= 2$ is our answer.", T), ("$x > 5$", "Therefore $x \\gt 5$ is the solution.", T),
    ("$x != 3$", "We find that $x \\neq 3$.", T), ("$x > 5$", "Therefore $x < 5$ is the solution.", F),
    ("$x \\geq 5$", "The solution is $x \\leq 5$", F), ("$x \\neq 5$", "The solution is $x != 5$", T),
    ("$x \\leq 5$", "$5 \\geq x$", T), ("$x \\geq 5$", "$5 \\leq x$", T), ("$x = 11$", "$x = 5+5+1 = 7 =11$", T),
    ("$7 = 11a+c$", "$11a+c$", F), ("$x = 1/3$", "$x = 5+5+1 = 1/3 \\approx 11$", T), ("$11$", "$x=11$", T),
    ("$11$", "$x\\approx11$", T), ("$1/3$", "$x=1/3\\approx1.3$", T), ("$x < 1$", "$-x > -1$", T),
    ("$x < 1$", "$x > -1$", F), ("$x <= 1$", "$-x >= -1$", T), ("$a +3z = 0$", "$0$", F),
    ("$2x + z = 1$", "$1$", F), ("$a^2 + b = 0$", "$0$", F), ("$k=1$", "$1$", T), ("$1$", "$k=1$", T),
    ("$z = 1 + 1 = 2$", "$z = 3+3 = 2$", T), ("$2x+4y-3=0$", "$y=-\\frac{1}{2}x+\\frac{3}{4}$", T),
    ("$x^2/4 + y^2/3 = 1$", "$x^2/16 + y^2/12 = 1/4$", T),
    # test_matrix_extraction
    ("$\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$",
     "The identity matrix is $ \\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix} $.", T),
    ("$\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}$", "Here is a zero matrix: $ \\begin{pmatrix}0 & 0 \\\\0 & 0\\end{pmatrix} $", T),
    ("$\\begin{pmatrix}1 & 2 \\\\3 & 4\\end{pmatrix}$",
     "Special matrix: $ \\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right] $", T),
    ("$\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}$",
     "The sum is $\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}$", T),
    ("$\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$",
     "When multiplying by identity: $\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix} \\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$", T),
    ("$\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}$", "The matrix is $\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}$", F),
    # test_complex_math_expressions (precision 6 only)
    ("$\\frac{1}{12}$", "$0.0833333333333333$", T), ("$(1,\\frac{9}{2})$", "$(1,4.5)$", T),
    ("$\\frac{x+2}{7}$", "$\\frac{x}{7}+\\frac{2}{7}$", T), ("$\\tan^2(y)+1$", "$\\sec^2(y)$", T),
    ("$34x+45y-20z+100=0$", "$-34x-45y+20z-100=0$", T),
    ("$\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}$", "$\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{2\\sqrt{33}+15}$", T),
    ("$(a+5)(b+2)$", "$(+5)(b+2)$", F), ("$2$", "$\\frac{1+\\sqrt{5}}{2}$", F),
    ("$4$", "$\\frac{34}{16}+\\frac{\\sqrt{1358}}{16}$", F), ("$1\\sqrt{19}$", "$1$", F), ("$x+2n+1$", "$x+1$", F),
]

# LIGHTEVAL: cases from lighteval's extractive-match tests, huggingface/lighteval
# ``tests/unit/metrics/test_extractive_match.py`` (commit 9d6b912603bd144a2920db29a50e80b25bb5e613;
# MIT): test_extraction_abc, test_multilingual_extraction_abc, test_multilingual_extraction_math
# (long responses shortened to their last sentences), test_multilingual_extraction_math_latex_numbers
# and test_number_extraction. Labels are lighteval's expected values (1 = equal).
LIGHTEVAL = [
    ("C", "thinking about it I think the correct answer is C", T),
    ("B", "Let's think step by step. It's not A because it doesn't make sense, therefore I think it's B", T),
    ("D", "The answer is for sure D, it can't be A or B", T),
    ("D", "The answer: D, it doesn't make sense for it to be A or B", T),
    ("D", "D. it can't be A or B", T), ("(D) Alina", "D", T), ("(A) Cecile", "C", F), ("C Cecile", "C", T),
    ("Alina and the answer is\n(C) Cecile", "C", T), ("Alina and the answer is\nC Cecile", "C", T),
    ("A Peter\nCelina bum", "A", T),
    ("C", "réponse est C non A", T), ("B", "B。 不是 A", T), ("B", "B。不是 A", T), ("B", "B不是 A", T),
    ("13", "因此，现在篱笆上总共有3只鸟（假设鸟的数量没有变化）和10只鹳鸟，所以一共有3 + 10 = 13只鸟和鹳鸟。", T),
    ("3", "5页（数学作业） - 2页（阅读作业） = 3页 因此，瑞秋的数学作业比阅读作业多 **3页**。", T),
    ("858", "33颗/袋 * 26袋 = 858颗。 因此，弗兰克一共有**858颗**糖果。 ", T),
    ("192", "66公斤（当前体重） + 126公斤（减掉的体重） = 192公斤 因此，杰西开始慢跑前的体重是192公斤。 ", T),
    ("8722", "89件T恤 * 98美元/件 = 8722美元 所以，他们从阿肯色州比赛中卖出的T恤赚了8722美元。 ", T),
    ("99", "11个男孩 * 9颗弹珠/男孩 = 99颗弹珠 2. **结论**：Haley总共有99颗弹珠。 ", T),
    ("92", "ثم نطرح 66 من النتيجة السابقة: 158 - 66 = 92 لذا، ناتج العملية الحسابية 79 * 2 - 66 هو **92**.", T),
    ("66", "ثم نطرح 99 من النتيجة السابقة: 165 - 99 = 66 لذا، ناتج العملية الحسابية 55 * 3 - 99 هو **66**.", T),
    ("25%", "En conclusion, la probabilité que Jerry obtienne un nombre supérieur à 3 plutôt qu'un nombre pair "
            "deux fois de suite est de **25%**.", T),
    ("105", "réponse est (35 + 70 = 105).", T), ("79", "donc 353 g - 79 g = 274 g. Donc, il a déjà 79 g de cire.", T),
    ("220", "Réponse: Janeth aura encore 220 $ à payer d'ici 12 mois.", T),
    ("70", "La réduction est de 100 * 0,30 = 30 $. Le coût final est donc de 100 - 30 = 70", T),
    ("2/5", "} \\times \\frac{1}{3} = \\frac{6}{15} = \\frac{2}{5} ] 所以，每份应该是 (\\frac{2}{5}) 吨。 答案：每份应该是 (\\frac{2}{5}) 吨。", T),
    ("4000", " 地块面积 = 72000 / 18 = 4000千克", T),
    ("300", "来计算水池中水的流出时间：12000升/40升/分钟=300分钟。因此，水池中水将在300分钟内被放完。", T),
    ("13/28", "计划的比例为13/28", T), ("8/46", "\\frac{4}{23}", T),
    ("$\\frac{9.5}{3.14159}$", "$\\frac{9.5}{3.14159} \\approx 3.01$", T),
    ("67", "इसलिए, गणना करें: [ 56 + 11 = 67 ] इसलिए, दुकान में अब 67 कमीजें हैं। ", T),
    ("0", "So the os then when we 9/3 we get 8 so the answer is 0", T),
    ("1", "so $x+y = 1000$ therefore answer is $1$", T), ("1", "how many $? just about 1$", T),
    ("2.74", "Soucis : 2,74 $ a..", T), ("1000.99", "the number is not 10 which is 1,000.99€", T),
    ("1000.99", "so the number is 10 which is 1,000.99m²", T), ("1000.99", "not it's not 10 it's 1,000.99m²", T),
    ("1000.99", "1,000.99$", T),
]
