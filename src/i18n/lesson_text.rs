//! Translations for the guided lesson (see `mod.rs`).

pub const TEXT: &[(&str, &str)] = &[
    ("The question", "Вопрос"),
    (
        "A student wrote this network by hand: two convolution layers with one 3x3 filter each, pooling, and two fully connected layers. Backpropagation through the FC layers worked, but the filters stayed random (94 % accuracy). The question: how does the error get from the FC layers back into a 3x3 filter? This lesson follows one batch forward through the network, then the error back into the filters.",
        "Студент написал эту сеть вручную: два свёрточных слоя с одним фильтром 3x3 в каждом, пулинг и два полносвязных слоя. Обратное распространение через полносвязные слои работало, а фильтры оставались случайными (точность 94 %). Вопрос: как ошибка попадает из полносвязных слоёв обратно в фильтр 3x3? Этот урок проводит один батч вперёд через сеть, а затем ошибку — назад, до фильтров.",
    ),
    ("One batch at the input", "Один батч на входе"),
    (
        "The network has just been reset: nothing learned yet (each filter starts as a pass-through with a little random noise). A batch of training digits waits at the input. The strip at the top shows every layer with the shape of its output; the coloured block is where the numbers are now.",
        "Сеть только что сброшена: ничего ещё не выучено (каждый фильтр начинает как «пропуск» с небольшим случайным шумом). На входе ждёт батч обучающих цифр. Полоса вверху показывает все слои с формой их выхода; цветной блок — там, где сейчас находятся числа.",
    ),
    ("Forward: the first convolution", "Прямой проход: первая свёртка"),
    (
        "conv1 slides its 3x3 filter F over the 28x28 image: each output cell is b + Σ F·x over the 3x3 patch under the filter. Click any cell of the output map: the panel on the right lists the nine products that make it, with the engine's own numbers.",
        "conv1 проводит свой фильтр F 3x3 по изображению 28x28: каждая клетка выхода равна b + Σ F·x по участку 3x3 под фильтром. Щёлкните любую клетку карты выхода: панель справа перечислит девять произведений, из которых она складывается, с числами самого движка.",
    ),
    ("ReLU and max pooling", "ReLU и max-пулинг"),
    (
        "ReLU keeps positive values and sets the rest to 0. Max pooling keeps the largest value of each 2x2 window, so 28x28 becomes 14x14. Remember which cell won each window: the way back needs it.",
        "ReLU оставляет положительные значения, а остальные заменяет нулём. Max-пулинг оставляет наибольшее значение каждого окна 2x2, и 28x28 превращается в 14x14. Запомните, какая клетка победила в каждом окне: это понадобится на обратном пути.",
    ),
    ("Down to 49 numbers", "До 49 чисел"),
    (
        "conv2, a second ReLU and a second pooling give a 7x7 map; flatten lays its 49 values out in a row. From here on come the fully connected layers the student had already written.",
        "conv2, вторая ReLU и второй пулинг дают карту 7x7; flatten выстраивает её 49 значений в строку. Дальше идут полносвязные слои, которые студент уже написал.",
    ),
    ("The output and the loss", "Выход и потеря"),
    (
        "fc1 and fc2 turn the 49 values into 10 scores (logits), and softmax turns those into probabilities. The loss is the cross-entropy averaged over the batch. Its delta, (p − one_hot) / N, is the error that starts the backward pass.",
        "fc1 и fc2 превращают 49 значений в 10 оценок (логитов), а softmax — в вероятности. Потеря — перекрёстная энтропия, усреднённая по батчу. Её дельта, (p − one_hot) / N, — та ошибка, с которой начинается обратный проход.",
    ),
    ("Backward through the FC layers", "Назад через полносвязные слои"),
    (
        "fc2 receives the loss's delta and does what the student's code already did: dW = input × delta, and the delta handed down = Wᵀ · delta. ReLU then multiplies it by its derivative: 1 where its input was positive, 0 elsewhere.",
        "fc2 получает дельту потери и делает то же, что уже делал код студента: dW = вход × дельта, а дельта для слоя ниже = Wᵀ · дельта. Затем ReLU умножает её на свою производную: 1 там, где вход был положителен, и 0 в остальных местах.",
    ),
    ("Back to a 7x7 map", "Снова карта 7x7"),
    (
        "After fc1 and its ReLU, flatten reshapes the 49 deltas into a 7x7 map again. This is the first delta matrix of the convolution part: the error has left the FC layers.",
        "После fc1 и её ReLU слой flatten снова складывает 49 дельт в карту 7x7. Это первая матрица дельт свёрточной части: ошибка покинула полносвязные слои.",
    ),
    ("Through max pooling", "Через max-пулинг"),
    (
        "Max pooling sends each delta to the cell that won its window and 0 to the other three. Click a cell of the delta handed down: the panel shows its window and the winner.",
        "Max-пулинг отправляет каждую дельту в клетку, победившую в своём окне, а трём остальным — 0. Щёлкните клетку переданной вниз дельты: панель покажет её окно и победителя.",
    ),
    ("Through ReLU", "Через ReLU"),
    (
        "ReLU lets the delta through where its input was positive and blocks it elsewhere (the mask). What comes out is the delta D that conv2 receives.",
        "ReLU пропускает дельту там, где её вход был положителен, и задерживает в остальных местах (маска). На выходе — дельта D, которую получает conv2.",
    ),
    ("The answer, part 1: dF", "Ответ, часть 1: dF"),
    (
        "conv2 now does the two jobs of the answer. First: dF is the correlation of the layer's input with the delta from above, summed over the batch. Each of the 9 cells of dF says how the loss changes when one filter weight changes. Click a cell of dF to see its terms.",
        "Теперь conv2 выполняет две работы из ответа. Первая: dF — корреляция входа слоя с пришедшей сверху дельтой, просуммированная по батчу. Каждая из 9 клеток dF говорит, как меняется потеря при изменении одного веса фильтра. Щёлкните клетку dF, чтобы увидеть её слагаемые.",
    ),
    (
        "The answer, part 2: the delta handed down",
        "Ответ, часть 2: дельта для слоя ниже",
    ),
    (
        "Second: the delta for the layer below is the full convolution of D with the filter rotated by 180°. Every output cell that read an input cell sends its delta back through the weight it used.",
        "Вторая: дельта для слоя ниже — полная свёртка D с фильтром, повёрнутым на 180°. Каждая клетка выхода, читавшая клетку входа, возвращает ей свою дельту через тот вес, которым пользовалась.",
    ),
    ("All the way to the first filter", "До самого первого фильтра"),
    (
        "pool1 and relu1 route and mask the delta in the same way, and conv1 computes its dF from the input images themselves. The error has reached the first filter.",
        "pool1 и relu1 так же направляют и маскируют дельту, а conv1 вычисляет свой dF по самим входным изображениям. Ошибка дошла до первого фильтра.",
    ),
    ("The update", "Обновление"),
    (
        "Now every weight moves against its gradient: F ← F − η · dF. The app trains with plain SGD, so the view shows exactly that for every layer: the filter before, η · dF, and the filter after.",
        "Теперь каждый вес сдвигается против своего градиента: F ← F − η · dF. Приложение обучает обычным SGD, поэтому здесь видно ровно это для каждого слоя: фильтр до, η · dF и фильтр после.",
    ),
    ("Let it learn", "Пусть учится"),
    (
        "Press Run: batch after batch the loss falls (the plot at the bottom) and the filters change. ← goes back in time, even into a finished batch, and → comes forward again.",
        "Нажмите «Пуск»: батч за батчем потеря падает (график внизу), а фильтры меняются. ← возвращает назад во времени, даже в уже законченный батч, а → ведёт вперёд.",
    ),
    ("The question's experiment", "Эксперимент из вопроса"),
    (
        "This tab trains two copies of the network from the same start, one with its filters frozen (the student's situation) and one with them learning, and plots their test accuracy side by side. Then draw a digit in the Draw tab and watch the network's answer.",
        "На этой вкладке две копии сети учатся с одного и того же начала: одна с замороженными фильтрами (как у студента), другая — с обучаемыми; их точность на тестовой выборке рисуется рядом. Потом нарисуйте цифру на вкладке «Нарисовать цифру» и посмотрите на ответ сети.",
    ),
    ("Lesson · {step} of {count}", "Урок · {step} из {count}"),
    ("Stride 2 · {step} of {count}", "Шаг 2 · {step} из {count}"),
    ("Stride 2 ▶", "Шаг 2 ▶"),
    ("Optional: what changes with stride 2 ▶", "Дополнительно: что меняет шаг 2 ▶"),
    (
        "Five more steps on an all-conv network whose convs move 2 cells at a time: the delta dilated with zeros on the way back",
        "Ещё пять шагов на сети из одних свёрток, шагающих через 2 клетки: на обратном пути дельта разрежается нулями",
    ),
    (
        "What changes with stride 2 (optional chapter)",
        "Что меняет шаг 2 (дополнительная глава)",
    ),
    (
        "Five steps on the strided network (lenet's convs moving 2 cells at a time, no pooling): the taps read every second cell, and the delta is dilated with zeros on the way back",
        "Пять шагов на сети strided (свёртки lenet шагают через 2 клетки, пулинга нет): отводы читают каждую вторую клетку, а дельта на обратном пути разрежается нулями",
    ),
    ("What changes with stride 2", "Что меняет шаг 2"),
    (
        "An optional chapter on lenet without pooling: each convolution moves 2 cells at a time, so 28x28 becomes 14x14, then 7x7, as in most modern CNNs. How does the error get back into filters that skip every other position?",
        "Дополнительная глава о lenet без пулинга: каждая свёртка шагает через 2 клетки, и 28x28 становится 14x14, затем 7x7, как в большинстве современных CNN. Как ошибка возвращается в фильтры, пропускающие каждую вторую позицию?",
    ),
    ("Forward with stride 2", "Прямой проход с шагом 2"),
    (
        "conv1 reads its 3x3 window at every second position: output cell (i, j) reads the padded input from (2i, 2j). Each output cell is drawn twice as large: it stands for 2 input positions.",
        "conv1 читает окно 3x3 в каждой второй позиции: выходная клетка (i, j) читает дополненный вход с (2i, 2j). Каждая клетка выхода нарисована вдвое крупнее: она стоит за 2 позиции входа.",
    ),
    (
        "dF with stride 2: the taps read every second cell",
        "dF при шаге 2: отводы читают каждую вторую клетку",
    ),
    (
        "dF is still the input correlated with the delta from above, but tap (u, v) meets D[i, j] at input cell (2i + u, 2j + v): each tap reads every second cell. Click a cell of dF: what it read is outlined.",
        "dF — всё та же корреляция входа с дельтой сверху, но отвод (u, v) встречает D[i, j] в клетке входа (2i + u, 2j + v): каждый отвод читает каждую вторую клетку. Щёлкните клетку dF: прочитанное обведено.",
    ),
    ("The delta handed down: D dilated", "Дельта вниз: D разреженная"),
    (
        "D is dilated first: a zero between its cells (boxed), since output (i, j) sat at input (2i, 2j). Then it is stride 1's full convolution with rot180(F), one more ring of padding at the bottom and right.",
        "Сначала D разреживают: ноль между её клетками (в рамке), ведь выход (i, j) стоял на входе (2i, 2j). Дальше — полная свёртка с rot180(F), как при шаге 1, с лишним кольцом рамки снизу и справа.",
    ),
    ("The rule for any stride", "Правило для любого шага"),
    (
        "conv1 does the same with the images. Any stride S: put S − 1 zeros between D's cells, then do what stride 1 does. A dilated filter keeps its holes on the way back. Predict mode and File → Check my backprop test both.",
        "conv1 делает то же с картинками. Любой шаг S: вставьте S − 1 нулей между клетками D и делайте то же, что при шаге 1. Расширенный фильтр сохраняет пропуски и на обратном пути. Режим предсказаний и Файл → Проверить мой backprop проверяют и то и другое.",
    ),
    ("Leave the lesson", "Выйти из урока"),
    (
        "Explore freely; the Guided lesson menu continues from this step",
        "Исследуйте сами; меню «Урок» продолжит с этого шага",
    ),
    ("Finish", "Завершить"),
    ("Next ▶", "Далее ▶"),
    ("◀ Previous", "◀ Предыдущий"),
    // The lesson's sentences of numbers (teach/lesson.rs `spoken`).
    (
        "Its cell is lit on the maps; click to see how it was computed",
        "Его клетка подсвечена на картах; щёлкните, чтобы увидеть, как оно получено",
    ),
    ("grows", "растёт"),
    ("shrinks", "уменьшается"),
    (
        "Sample {n} is a {label}: {d}[{n},{label}] = (p[{label}] − 1) / {batch} = ({p} − 1) / {batch} = {value} < 0, so the loss pushes its logit up.",
        "Пример {n} — это {label}: {d}[{n},{label}] = (p[{label}] − 1) / {batch} = ({p} − 1) / {batch} = {value} < 0, поэтому функция потерь тянет его логит вверх.",
    ),
    (
        "{layer}: dF[{u},{v}] = {g} {sign} 0, so F[{u},{v}] {direction} in the update: F − η·dF = {f} − {eta} × ({g}) = {after}.",
        "{layer}: dF[{u},{v}] = {g} {sign} 0, поэтому при обновлении F[{u},{v}] {direction}: F − η·dF = {f} − {eta} × ({g}) = {after}.",
    ),
    (
        "{layer}: dF[{u},{v}] = {g} {sign} 0, so F[{u},{v}] {direction} in the update (it moves against its gradient).",
        "{layer}: dF[{u},{v}] = {g} {sign} 0, поэтому при обновлении F[{u},{v}] {direction} (вес движется против своего градиента).",
    ),
    (
        "{layer}: F[{u},{v}] − η·dF[{u},{v}] = {f} − {eta} × ({g}) = {after}, the engine's new weight.",
        "{layer}: F[{u},{v}] − η·dF[{u},{v}] = {f} − {eta} × ({g}) = {after} — новый вес, как его посчитал движок.",
    ),
    (
        "{layer}: F[{u},{v}] moved from {f} to {after} (dF[{u},{v}] = {g}).",
        "{layer}: F[{u},{v}] изменился с {f} на {after} (dF[{u},{v}] = {g}).",
    ),
];
