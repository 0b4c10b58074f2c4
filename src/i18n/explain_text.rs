//! Translations (see `mod.rs`).

pub const TEXT: &[(&str, &str)] = &[
    // Titles of an explained cell.
    ("pixel [{index}] of the batch", "пиксель [{index}] батча"),
    ("dF[{index}] of {layer}", "dF[{index}] слоя {layer}"),
    ("dW[{index}] of {layer}", "dW[{index}] слоя {layer}"),
    (
        "D[{index}] handed down by {layer}",
        "D[{index}], переданная вниз слоем {layer}",
    ),
    ("{layer} output [{index}]", "выход {layer} [{index}]"),
    ("D[{n}, {k}] from the loss", "D[{n}, {k}] от потери"),
    // Formulas (their words only) and terms.
    ("x = byte / 255", "x = байт / 255"),
    (
        "the input under tap ({u},{v}) correlated with the delta from above",
        "вход под весом ({u},{v}) фильтра в корреляции с дельтой сверху",
    ),
    (
        "\"input times delta\", summed over the batch",
        "«вход на дельту», сумма по батчу",
    ),
    ("sample {n}", "пример {n}"),
    ("rot180 position [{row}, {col}]", "позиция [{row}, {col}] в rot180"),
    (
        "ReLU′ = 1 if x > 0 else 0; here x = {x}",
        "ReLU′ = 1, если x > 0, иначе 0; здесь x = {x}",
    ),
    ("σ′ = y·(1−y) with y = {y}", "σ′ = y·(1−y), где y = {y}"),
    ("tanh′ = 1 − y² with y = {y}", "tanh′ = 1 − y², где y = {y}"),
    ("outside every window", "вне всех окон"),
    (
        "D_below = D at the window's winner, 0 elsewhere",
        "D_below = D у победителя окна, 0 у остальных",
    ),
    ("→ here (winner)", "→ сюда (победитель)"),
    ("→ went to the winner, not here", "→ ушла к победителю, не сюда"),
    (
        "D_below = reshape(D): the FC layer's vector back into maps",
        "D_below = reshape(D): вектор FC-слоя обратно в карты",
    ),
    ("D[{k}] of the flat vector", "D[{k}] плоского вектора"),
    (
        "Entry k of the vector is channel k / (H·W), row (k mod H·W) / W, column k mod W.",
        "Элемент k вектора — это канал k / (H·W), строка (k mod H·W) / W, столбец k mod W.",
    ),
    ("bias b[{o}]", "смещение b[{o}]"),
    ("{kind} of its input", "{kind} от своего входа"),
    ("value", "значение"),
    // Notes.
    (
        "Sample {sample}'s share is listed; the batch of {batch} adds its samples' shares (the loss is a mean, so D already carries 1/N).",
        "Показан вклад примера {sample}; вклады всех примеров батча (всего: {batch}) складываются (потеря — среднее, поэтому D уже содержит 1/N).",
    ),
    (
        "This is the full convolution of D with the filter rotated by 180°: every output that read this input sends its delta back through the weight it used.",
        "Это полная свёртка D с фильтром, повёрнутым на 180°: каждый выход, читавший этот вход, отправляет свою дельту назад через тот же вес.",
    ),
    (
        "Next, {layer} multiplies it by its derivative (for ReLU: 1 where its input was > 0, else 0).",
        "Затем {layer} умножает её на свою производную (для ReLU: 1, где вход был > 0, иначе 0).",
    ),
    (
        "This row or column does not fill a window: it gets no delta.",
        "Эта строка или столбец не заполняет окно: дельта сюда не приходит.",
    ),
    (
        "Average pooling spreads the delta evenly over its window.",
        "Усредняющий пулинг распределяет дельту поровну по своему окну.",
    ),
    (
        "Window ({i}, {j}) holds {values}; the maximum {max} was at ({y}, {x}).",
        "Окно ({i}, {j}) содержит {values}; максимум {max} был в ({y}, {x}).",
    ),
    (
        "{ties} cells tie for the maximum: the first in row-major order wins, as in PyTorch.",
        "Ячеек с одинаковым максимумом: {ties}; побеждает первая в построчном порядке, как в PyTorch.",
    ),
    (
        "Sample {n}'s label is {label}: its logit is pushed up (negative delta), all others down.",
        "Метка примера {n} — {label}: её логит толкается вверх (отрицательная дельта), все остальные — вниз.",
    ),
    ("padding", "рамка"),
    (
        "The windows overlap: this cell is in {k} of them, and what each sends it adds up.",
        "Окна перекрываются: эта клетка входит в {k} из них, и то, что шлёт каждое, складывается.",
    ),
    (
        "A transposed conv's forward pass is a conv's backward pass, so its backward pass is that conv's forward pass: D read through the same filter, every S cells.",
        "Прямой проход транспонированной свёртки — это обратный проход свёртки, поэтому её обратный проход — прямой проход той свёртки: D читается через тот же фильтр каждые S клеток.",
    ),
    (
        "γ/s · D (μ and σ held still)",
        "γ/s · D (μ и σ неподвижны)",
    ),
    (
        "− γ/s · dβ/m (through the mean)",
        "− γ/s · dβ/m (через среднее)",
    ),
    (
        "− γ/s · z · dγ/m (through the variance)",
        "− γ/s · z · dγ/m (через дисперсию)",
    ),
    (
        "dγ[{index}] of {layer}",
        "dγ[{index}] слоя {layer}",
    ),
    (
        "Each x moved the channel's mean and variance, which every other cell of the channel was normalised by: those two paths are the second and third terms (m = {m} values in the channel).",
        "Каждый x сдвигал среднее и дисперсию канала, которыми нормировалась каждая другая клетка канала: эти два пути — второе и третье слагаемые (m = {m} значений в канале).",
    ),
    (
        "Channel {c} of the batch: μ = {mean}, σ² = {var} over its {m} values; this x = {x}.",
        "Канал {c} батча: μ = {mean}, σ² = {var} по его {m} значениям; этот x = {x}.",
    ),
];
