package org.stablekd.data;

/** Which half of a dataset with a fixed train/test split. */
public enum Split {
    TRAIN,
    TEST
}
